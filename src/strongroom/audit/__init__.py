"""Built-in audit devices (``file``, ``socket``, ``syslog``): plug-ins of the ``sdk.audit`` seam."""
