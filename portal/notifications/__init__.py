"""Notifications (办件提醒): a text message and, for people who subscribed in the WeChat
mini-program, a subscribe message, when an application is received, an item is accepted, a
supplement is asked for, a result is issued and delivered.

``services.plan`` decides, when a platform event is applied, who is told what on which
channel (their preferences), logs a ``Notification`` and writes an outbox row in the same
transaction; the relay's ``handlers`` send it through the SMS gateway or WeChat.
"""
