"""The government platform's intake API (统一受理): the contract is docs/intake-api.yaml.

``webhooks`` verifies the status events the platform pushes (Standard Webhooks). The relay
that delivers the outbox to the platform comes next (issue 5).
"""
