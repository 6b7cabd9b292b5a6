from costlog.cli import main

main()
