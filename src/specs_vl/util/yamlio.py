"""Read a YAML config: one-line errors naming the file, duplicate keys refused, a UTF-8 BOM accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from specs_vl.util.errors import ConfigError


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader keeps the last of two equal keys silently; this one refuses them."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise ConfigError(f"{self.name}: key '{key}' appears twice, on lines {seen[key]} and {line}; keep one")
            seen[key] = line
        return super().construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _UniqueKeyLoader.construct_mapping)


def load_yaml(path: str | Path) -> Any:
    """The parsed file; any problem is a ConfigError of one line that names the file (and line)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM (as Windows editors write) is dropped
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); save the config as UTF-8"
        ) from None
    loader = _UniqueKeyLoader(text)
    loader.name = str(path)  # PyYAML names a string stream "<unicode string>"
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise ConfigError(f"{path}: not valid YAML: {where}{what}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(e).split())}") from None
    finally:
        loader.dispose()


def public(d: Any) -> Any:
    """The config as written to disk: any key that looks like a secret is masked."""
    if isinstance(d, dict):
        return {k: ("***" if "api_key" in k and not k.endswith("_env") and v else public(v)) for k, v in d.items()}
    if isinstance(d, list):
        return [public(x) for x in d]
    return d
