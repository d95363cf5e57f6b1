from onevox.cli import main

main()
