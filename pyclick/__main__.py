from pyclick.cli import command

command()
