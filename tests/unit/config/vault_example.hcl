# A configuration as a Vault operator would write it, unchanged.
ui            = true
cluster_addr  = "https://vault-0.internal:8201"
api_addr      = "https://vault.example.com:8200"
disable_mlock = true
cluster_name  = "production"
plugin_directory = "/etc/vault/plugins"

backend "sqlite" {
  path = "/var/lib/strongroom/strongroom.db"
}

listener "tcp" {
  address                            = "0.0.0.0:8200"
  tls_cert_file                      = "/etc/vault/tls/server.crt"
  tls_key_file                       = "/etc/vault/tls/server.key"
  tls_min_version                    = "tls13"
  tls_client_ca_file                 = "/etc/vault/tls/ca.crt"
  tls_require_and_verify_client_cert = "true"
  x_forwarded_for_authorized_addrs   = "10.0.0.0/8"
  max_request_duration               = "2m"
}

listener "tcp" {
  address          = "127.0.0.1:8210"
  tls_disable      = 1
  max_request_size = 1048576
}

seal "transit" {
  address    = "https://transit.example.com:8200"
  token      = "canary-seal-token-value"
  key_name   = "autounseal"
  mount_path = "transit/"
}

telemetry {
  prometheus_retention_time = "30s"
  disable_hostname          = true
  prefix_filter             = ["+vault.token", "-vault.expire"]
}

default_lease_ttl = "24h"
max_lease_ttl     = "720h"
log_level         = "Debug"
pid_file          = "/run/strongroom.pid"
workers           = 4
