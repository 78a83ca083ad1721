from .auth_routes import bp as auth_bp
from .candidate_routes import bp as candidate_bp
from .job_routes import bp as job_bp

__all__ = ["auth_bp", "candidate_bp", "job_bp"]
