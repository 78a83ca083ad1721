"""Outgoing e-mail. In this deployment mail goes to an in-process outbox that a worker drains."""
import logging

logger = logging.getLogger(__name__)

OUTBOX = []


def send_email(to, subject, body):
    message = {"to": to, "subject": subject, "body": body}
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
        except ConnectionError:
            logger.exception("Warning: delivery to %s failed", message['to'])
            OUTBOX.append(message)
            break
    logger.info(" done")
    return sent


def _validate(message):
    if "@" not in message["to"]:
        raise ValueError(f"not an address: {message['to']!r}")
    if not message["subject"]:
        raise ValueError("empty subject")
