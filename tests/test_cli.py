from shared.cli import build_parser, main


def test_cli_without_a_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "maillage" in capsys.readouterr().out


def test_cli_parser_has_a_program_name():
    assert build_parser().prog == "maillage"
