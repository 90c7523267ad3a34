from cptlint.cli import main

main()
