"""Outgoing e-mail. In this deployment mail goes to an in-process outbox that a worker drains."""
import datetime
import logging
import os

import requests

logger = logging.getLogger(__name__)

OUTBOX = []
MAIL_API_URL = os.environ.get("HIRING_MAIL_API_URL", "https://mail.example.invalid/v3/messages")


def send_email(to, subject, body):
    message = {
        "to": to,
        "subject": subject,
        "body": body,
        "queued_at": datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None),
    }
    try:
        _validate(message)
    except Exception:
        logger.warning("dropping invalid message to %s", to)
        return False
    OUTBOX.append(message)
    logger.info("queued mail to %s", to)
    return True


def drain_outbox(deliver):
    """Hand every queued message to ``deliver``; return how many went out."""
    sent = 0
    logger.info("Draining outbox...")
    while OUTBOX:
        message = OUTBOX.pop(0)
        try:
            deliver(message)
            sent += 1
        except ConnectionError as exc:
            logger.warning("delivery to %s failed: %s", message['to'], exc)
            OUTBOX.append(message)
            break
    logger.info(" done")
    return sent


def deliver_over_http(message):
    """The production ``deliver`` for drain_outbox: one POST to the mail provider's API."""
    response = requests.post(
        MAIL_API_URL,
        json={"to": message["to"], "subject": message["subject"], "text": message["body"]},
        timeout=10,
    )
    if response.status_code >= 500:
        raise ConnectionError(f"mail API answered {response.status_code}")
    response.raise_for_status()


def _validate(message):
    if "@" not in message["to"]:
        raise ValueError(f"not an address: {message['to']!r}")
    if not message["subject"]:
        raise ValueError("empty subject")
