"""Reports and daily operations: the alert checks and their fixes (`alerts`, `fix_evidence`), the daily run
(`daily_ops`) and the weekly ads run (`weekly`), their Markdown (`markdown`) and their recorded runs (`runs`).

Dependencies run one way: alerts → daily_ops → weekly; markdown and runs are below both."""
