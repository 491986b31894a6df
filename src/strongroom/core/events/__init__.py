"""Events: engines publish, every process of every node sharing the storage can subscribe.

``docs/events.md`` has the design: an append-only event log in barrier storage
(``log``), written in small batches by each process's publisher (``publisher``) and
tailed by each process that has subscribers (``hub``).
"""

from strongroom.core.events.hub import EventHub, Subscription, SubscriptionRefused
from strongroom.core.events.publisher import EventPublisher

__all__ = ["EventHub", "EventPublisher", "Subscription", "SubscriptionRefused"]
