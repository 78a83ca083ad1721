"""Maintenance helpers the operators call from a Python shell."""
from .extensions import db


def confirm_reset(table_count):
    """Ask before dropping every table; True when the operator typed 'reset'."""
    print("Back up your database before proceeding!")
    print(f"This drops {table_count} tables.")
    return input("Type 'reset' to continue: ").strip() == "reset"


def reset_database():
    if confirm_reset(len(db.metadata.tables)):
        db.drop_all()
        db.create_all()
        return True
    return False
