"""Fake providers for tests and benchmarks: each a real HTTP server on 127.0.0.1 that speaks one provider's
documented API (its paths, authentication, request encoding, answers and error bodies) and refuses what the real
provider would refuse, and that can make the provider's callbacks (signed as the provider signs them) to Herald.

One module a provider type (`twilio.py`, `telegram.py` ...), each a `FakeProvider` subclass built from the
provider's public API reference; `base.py` holds what they share.
"""
