"""Reusable Bot Framework test kit: a token issuer with an OpenID/JWKS server, a fake Bot
Connector with its own token endpoint, a loopback host for `/api/messages`, and Teams-shaped
sample activities (tests/events/bot/). Everything binds 127.0.0.1."""
