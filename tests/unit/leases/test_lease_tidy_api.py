"""``sys/leases/tidy`` over the whole request path: it repairs a damaged expiry index so the lease still expires."""

from __future__ import annotations

from leases_harness import leasing_server

from strongroom.core.leases.schedule import due_key


def test_tidy_over_http_restores_a_lost_index_entry_and_the_lease_then_expires_on_time() -> None:
    with leasing_server() as (srv, target, clock):
        lease_id = srv.request("POST", "fake/creds/db", json={"ttl": "60s"}).json()["lease_id"]
        manager = srv.core.leases
        entry = srv.run(manager.lookup(lease_id))
        assert entry is not None
        # Damage: the lease's due entry is lost, and an entry of no lease is left behind.
        srv.run(manager.storage.delete(due_key(entry.due_time, lease_id)))
        srv.run(manager.storage.put(due_key(entry.due_time, "fake/creds/ghost/x"), b""))
        manager.index.forget()
        clock.advance(61)
        srv.run(manager.expire_due())
        assert target.revoked == []  # without its index entry nothing expires it
        tidied = srv.request("PUT", "sys/leases/tidy")
        assert tidied.status_code == 200, tidied.text
        assert tidied.json()["data"] == {"leases": 1, "reindexed": 1, "index_entries_dropped": 1}
        srv.run(manager.expire_due())
        assert target.revoked == ["db-1"]
        assert srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).status_code == 400


def test_tidy_needs_a_token_allowed_on_its_path() -> None:
    with leasing_server() as (srv, _, _):
        srv.request("PUT", "sys/policies/acl/lookup-only",
                    json={"policy": 'path "sys/leases/lookup" { capabilities = ["update"] }'})
        token = srv.request("POST", "auth/token/create",
                            json={"policies": ["lookup-only"]}).json()["auth"]["client_token"]
        assert srv.request("PUT", "sys/leases/tidy", token=token).status_code == 403
