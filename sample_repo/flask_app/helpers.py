"""Small parsing helpers shared by routes and services."""
from datetime import date, datetime, timezone


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
    except:
        return None


def parse_rating(value, default=3):
    try:
        rating = int(value)
    except:
        rating = default
    return max(1, min(5, rating))


def parse_tags(raw_tags):
    tags = []
    for raw in raw_tags:
        try:
            tags.append(raw.strip().lower())
        except:
            continue
    return tags


def parse_salary_range(text):
    """'50k-70k' -> (50000, 70000)."""
    try:
        low, high = text.lower().replace("k", "000").split("-")
        return int(low), int(high)
    except ValueError:
        print("Error: could not parse salary range", repr(text))
        return None


def salary_band(text):
    print("salary_band() is deprecated; use parse_salary_range()")
    return parse_salary_range(text)


def completion_percent(done, total):
    try:
        percent = done / total * 100
    except ZeroDivisionError:
        percent = 0.0
    print(f"Progress: {percent:.1f}% of {total} steps")
    return percent


def safe_int(value):
    try:
        return int(value)
    except:
        pass
    return 0
