"""Physical storage backends. Each module implements :class:`strongroom.sdk.storage.StorageBackend`."""
