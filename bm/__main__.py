from bm.cli import main

main()
