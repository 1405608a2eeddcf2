"""Test support, shared by every app's tests and by bench/ (never imported by Herald itself):

- `factories`: rows made directly (contacts through `contacts.writes`), users with API tokens;
- `fixtures`: the pytest plugin (`-p herald.testing.fixtures`): workspace, role clients, `gateway`, `eager_tasks`
  (and `eager()` for a block), `assert_roles`, and the API helpers `results`, `uuids`, `poster`, `post_broadcast`,
  `token_client`;
- `gateway`: a fake HTTP gateway on 127.0.0.1 that records requests and answers as told;
- `processes`: free ports, throwaway PostgreSQL databases, child processes in their own session.

Nothing is imported here: the plugin loads before Django is set up.
"""
