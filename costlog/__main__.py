from costlog.cli import run

run()
