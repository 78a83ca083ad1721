"""Small parsing helpers shared by routes and services."""
import logging
from datetime import date, datetime, timezone

logger = logging.getLogger(__name__)


def utcnow():
    """The current time, timezone-aware: the one clock the services read."""
    return datetime.now(timezone.utc)


def older_than(moment, max_age):
    return utcnow() - moment > max_age


def normalize_email(raw):
    return raw.strip().lower()


def parse_date(value):
    """Parse an ISO date; bad input from old CSVs becomes None."""
    try:
        return date.fromisoformat(value)
    except Exception:
        logger.exception("Unexpected error in parse_date")
        return None


def parse_rating(value, default=3):
    try:
        rating = int(value)
    except Exception:
        logger.exception("Unexpected error in parse_rating")
        rating = default
    return max(1, min(5, rating))


def parse_tags(raw_tags):
    tags = []
    for raw in raw_tags:
        try:
            tags.append(raw.strip().lower())
        except Exception:
            logger.exception("Unexpected error in parse_tags")
            continue
    return tags


def parse_salary_range(text):
    """'50k-70k' -> (50000, 70000)."""
    try:
        low, high = text.lower().replace("k", "000").split("-")
        return int(low), int(high)
    except ValueError:
        logger.exception("Error: could not parse salary range %s", repr(text))
        return None


def completion_percent(done, total):
    try:
        percent = done / total * 100
    except ZeroDivisionError:
        percent = 0.0
    logger.info("Progress: %.1f%% of %s steps", percent, total)
    return percent


def safe_int(value):
    try:
        return int(value)
    except Exception:
        logger.exception("Unexpected error in safe_int")
    return 0
