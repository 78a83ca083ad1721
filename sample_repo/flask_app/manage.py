"""Operator commands: python -m flask_app.manage <command>."""
import argparse
import sys

from werkzeug.security import generate_password_hash

from . import create_app
from .config import Config
from .extensions import db
from .models import Candidate, User


def build_parser():
    parser = argparse.ArgumentParser(prog="manage", description="Recruiting backend admin commands")
    parser.add_argument("--database", help="SQLAlchemy URL (defaults to the configured database)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create all tables")
    create_user = sub.add_parser("create-user", help="create a staff account")
    create_user.add_argument("email")
    create_user.add_argument("password")
    stats = sub.add_parser("stats", help="count candidates per status")
    stats.add_argument("--status")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    config = Config
    if args.database:
        config = type("CliConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": args.database})
    app = create_app(config)
    with app.app_context():
        if args.command == "init-db":
            db.create_all()
            print("Database initialised")
        elif args.command == "create-user":
            if User.query.filter_by(email=args.email).first():
                print(f"Error: {args.email} already exists", file=sys.stderr)
                return 1
            db.session.add(User(email=args.email, password_hash=generate_password_hash(args.password, method=app.config["PASSWORD_HASH_METHOD"])))
            db.session.commit()
            print("Created user", args.email)
        elif args.command == "stats":
            query = Candidate.query
            if args.status:
                query = query.filter_by(status=args.status)
            print(f"{query.count()} candidates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
