from yuqing_core.cli import main

main()
