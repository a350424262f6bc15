"""Where the local PostgreSQL's system user (root runs it as another one) cannot pass."""

from __future__ import annotations

import pwd
import tempfile
from pathlib import Path

import pytest

from localdev.postgres import BINARIES_REMEDY, DATA_REMEDY, _check_traversable
from vendas.errors import UserError

try:
    OTHER_USER = pwd.getpwnam("nobody").pw_name
except KeyError:  # pragma: no cover -- every Debian and Ubuntu has it
    OTHER_USER = None


@pytest.mark.skipif(OTHER_USER is None, reason="sem o usuário nobody nesta máquina")
@pytest.mark.parametrize(("remedy", "tail"), [
    (DATA_REMEDY, "escolha outro diretório com --dir ou libere a passagem (chmod o+x {})."),
    (BINARIES_REMEDY, ("onde estão os binários do PostgreSQL: libere a passagem (chmod o+x {}) "
                       "ou clone o projeto num diretório que outros usuários possam atravessar.")),
])
def test_a_closed_parent_directory_is_named_in_one_sentence(tmp_path, remedy, tail):
    closed = tmp_path / "fechado"
    inner = closed / "venv" / "bin"
    inner.mkdir(parents=True)
    for directory in (inner, inner.parent):
        directory.chmod(0o755)
    closed.chmod(0o700)
    with pytest.raises(UserError) as error:
        _check_traversable(inner, OTHER_USER, remedy)
    assert str(error.value) == (f"O usuário {OTHER_USER}, que roda o PostgreSQL, não consegue "
                                f"entrar em {closed}: " + tail.format(closed))


@pytest.mark.skipif(OTHER_USER is None, reason="sem o usuário nobody nesta máquina")
def test_an_open_path_passes():
    # pytest's own tmp_path sits in a directory only its user may enter
    with tempfile.TemporaryDirectory() as base:
        inner = Path(base) / "aberto" / "bin"
        inner.mkdir(parents=True)
        Path(base).chmod(0o711)
        _check_traversable(inner, OTHER_USER, DATA_REMEDY)
