"""Reading a mapping file: strict YAML, `extends` merged over a shipped mapping, then validated.

A key written twice is refused (YAML would keep the second silently), and a
merchant's file that extends a shipped mapping overrides it key by key.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from feeds.mapping_model import FeedMapping, MappingError, _header_key
from feeds.mapping_schema import SOURCE_KEYS, TOP_LEVEL_KEYS, _build
from feeds.mapping_shipped import MAPPINGS_DIR, SHIPPED_NAME, shipped_mapping_names


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (the second would silently win)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in keys
        except TypeError:
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
        keys.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        if mark is not None and problem:
            context = getattr(exc, "context", None)
            detail = f"line {mark.line + 1}, column {mark.column + 1}: {f'{context}: ' if context else ''}{problem}"
        else:
            detail = " ".join(str(exc).split())
        raise MappingError(f"{path}: invalid YAML at {detail}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a mapping file must be a YAML mapping with keys {', '.join(TOP_LEVEL_KEYS)}")
    return data


def _merge(base: Any, override: Any) -> Any:
    """Deep merge for `extends`: dicts merge key by key, anything else replaces, null removes."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_columns(base: Any, override: Any) -> Any:
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    merged = dict(base)
    for column, rule in override.items():
        if rule is None:
            merged.pop(column, None)
            continue
        old = merged.get(column)
        if isinstance(old, dict) and isinstance(rule, dict):
            if any(k in rule for k in SOURCE_KEYS):
                # A new source replaces the old one: `constant: X` over `from: Y` needs no `from: null`.
                old = {k: v for k, v in old.items() if k not in SOURCE_KEYS}
            merged[column] = _merge(old, rule)
        else:
            merged[column] = rule
    return merged


def _raw_with_extends(path: Path, chain: tuple[str, ...] = ()) -> dict:
    data = _read_yaml(path)
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str) or not SHIPPED_NAME.match(parent):
        raise MappingError(f"{path}: extends: must be the name of a shipped mapping; allowed: {', '.join(shipped_mapping_names())}")
    parent_path = MAPPINGS_DIR / f"{parent}.yaml"
    if not parent_path.is_file():
        raise MappingError(
            f"{path}: extends: no shipped mapping named '{parent}'; allowed: {', '.join(shipped_mapping_names())}"
        )
    if parent in chain:
        raise MappingError(f"{path}: extends: '{parent}' extends itself ({' -> '.join((*chain, parent))})")
    base = _raw_with_extends(parent_path, (*chain, parent))
    if "dataset" in data and data["dataset"] != base.get("dataset"):
        raise MappingError(
            f"{path}: dataset: {data['dataset']!r} differs from the extended mapping '{parent}' "
            f"({base.get('dataset')!r}); allowed: {base.get('dataset')!r} or leave dataset out"
        )
    merged = _merge({k: v for k, v in base.items() if k not in ("columns", "name", "description")}, {k: v for k, v in data.items() if k != "columns"})
    merged["columns"] = _merge_columns(base.get("columns") or {}, data.get("columns") or {})
    merged["description"] = data.get("description", base.get("description", ""))
    merged["extends"] = parent
    if isinstance(base.get("personal"), list) and isinstance(data.get("personal"), list):
        # a merchant adds its own personal columns; it cannot un-mark the shipped ones by omission
        merged["personal"] = base["personal"] + [c for c in data["personal"] if c not in base["personal"]]
    return merged


def load_mapping(path: Path) -> FeedMapping:
    """Read and validate a mapping YAML (following `extends`); raises MappingError naming file, key and what is allowed."""
    path = Path(path)
    data = _raw_with_extends(path)
    return _build(path, data)


def shipped_mapping(name: str) -> FeedMapping:
    """One of the mappings shipped in feeds/mappings/ by name, e.g. "shopify_orders"."""
    if not SHIPPED_NAME.match(name or "") or not (MAPPINGS_DIR / f"{name}.yaml").is_file():
        raise MappingError(f"no shipped mapping named '{name}'; allowed: {', '.join(shipped_mapping_names())}")
    return load_mapping(MAPPINGS_DIR / f"{name}.yaml")


def shipped_mapping_for(dataset: str, header: list[str]) -> str | None:
    """The shipped mapping of `dataset` whose every source column `header` has, by name, or None: a file laid out
    as a known export (a Shopify orders CSV) that landed without its mapping is told which one to extend."""
    sent = {_header_key(h) for h in header}
    for name in shipped_mapping_names():
        mapping = shipped_mapping(name)
        if mapping.dataset == dataset and all(_header_key(c) in sent for c in mapping.source_columns):
            return name
    return None
