"""CSV exports for the reporting team."""
import traceback

from ..models import Candidate


def export_candidates_csv(path, status=None):
    query = Candidate.query.order_by(Candidate.id)
    if status is not None:
        query = query.filter_by(status=status)
    rows = query.all()
    try:
        with open(path, "w", encoding="utf-8") as handle:
            print("id,name,email,status", file=handle)
            for c in rows:
                print(c.id, c.name, c.email, c.status, sep=",", file=handle)
    except OSError:
        traceback.print_exc()
        return 0
    print(f"Exported {len(rows):,} candidates to {path}")
    return len(rows)
