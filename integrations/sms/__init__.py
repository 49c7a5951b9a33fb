"""The SMS gateway (短信网关): texts to applicants at receipt, acceptance, supplement request,
result and delivery of their applications, by approved template code and ``out_id``, the
caller's idempotency id; contract in docs/sms-api.md. ``SmsGateway`` is what the portal
calls; the sandbox stand-in is ``integrations/sandbox/sms.py``."""

from integrations.sms.client import SmsError, SmsGateway, SmsReceipt

__all__ = ["SmsError", "SmsGateway", "SmsReceipt"]
