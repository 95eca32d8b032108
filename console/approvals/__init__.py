"""Approvals as people see them: the queue's rows, filters and bulk decisions (`queue`), value-only edits (`edits`),
an operation's evidence (`evidence`) and its story in one line (`operations`)."""
