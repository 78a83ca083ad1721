from flask_app import manage


def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'manage.db'}"


def test_init_db_then_create_user_then_stats(tmp_path):
    url = database_url(tmp_path)

    assert manage.main(["--database", url, "init-db"]) == 0
    assert manage.main(["--database", url, "create-user", "ops@example.com", "s3cret-password"]) == 0
    assert manage.main(["--database", url, "create-user", "ops@example.com", "again"]) == 1
    assert manage.main(["--database", url, "stats", "--status", "new"]) == 0


def test_parser_requires_a_command():
    parser = manage.build_parser()
    args = parser.parse_args(["stats"])
    assert (args.command, args.status, args.database) == ("stats", None, None)
