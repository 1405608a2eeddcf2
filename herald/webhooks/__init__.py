"""Signed webhooks: subscriptions, the event outbox written with the change that causes each event, and the sender
that POSTs events to their subscribers (at least once, signed, retried with back-off).

Below `herald.msgs` in the layers: msgs tells this app what happened (`events.emit`, inside its own transaction);
this app never imports msgs or the API. The objects an event carries are rendered by whoever registered a renderer
for their kind (`payloads`; the API registers its serializers), so events show objects as the API shows them.
"""
