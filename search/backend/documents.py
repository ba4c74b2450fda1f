"""Schema and documents: what the index holds for each object.

One document per object: ``pk`` (stored), ``ct`` (the model label and its concrete ancestors' labels),
catch-all text fields per boost (``x_all``, ``x_b2``, ... like Elasticsearch's ``_all_text_boost_N``; they
also hold adjacent-word shingles so "these words together" is a term lookup), one text field per
``SearchField`` for ``fields=`` searches (``s_<path>``, RelatedFields paths joined with ``__``),
edge-n-gram fields for ``AutocompleteField`` (``ac_<path>``; an autocomplete without ``fields=`` queries
all of a model's, see ``search.backend.query``: no catch-all copy of them), one typed field per
``FilterField`` (``fb_``/``fn_``/``ff_``/``fd_``/``ft_``/``fi_``/``fu_`` + attname) and ``nulls`` listing
the filter fields whose value is ``None``. The schema uses glob fields, so every model fits without
changes.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.db import models
from django.db.models import Manager
from django.utils import timezone
from django.utils.encoding import force_str
from modelsearch.index import AutocompleteField, FilterField, RelatedFields, SearchField
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema

from search.analysis import AutocompleteAnalyzer, ChineseAnalyzer, ShingleAnalyzer

__all__ = [
    "ALL_TEXT",
    "SCHEMA_VERSION",
    "Untranslatable",
    "boost_bucket",
    "build_document",
    "build_schema",
    "clean_filter_value",
    "filter_kind",
    "flatten_text",
    "model_label",
]

# Part of every index name (with the analyzer version): a change forces a rebuild.
SCHEMA_VERSION = "8"


class Untranslatable(Exception):
    """A filter or ordering that cannot be expressed in Whoosh; the ORM handles it instead."""


def build_schema():
    schema = Schema(
        pk=ID(unique=True, stored=True, sortable=True),  # sortable: also a column, read by fastscore
        ct=KEYWORD(scorable=False),
        nulls=KEYWORD(scorable=False),
    )
    schema.add("s_*", TEXT(analyzer=ChineseAnalyzer(), phrase=True), glob=True)
    # No positions in the catch-all fields: adjacency is answered by the shingle terms, and without
    # positions their postings are a fraction of the size and much faster to read and score.
    schema.add("x_*", TEXT(analyzer=ShingleAnalyzer(), phrase=False), glob=True)
    schema.add("ac_*", TEXT(analyzer=AutocompleteAnalyzer(), phrase=True), glob=True)
    schema.add("fb_*", BOOLEAN(), glob=True)
    schema.add("fn_*", NUMERIC(numtype=int, bits=64, signed=True), glob=True)
    schema.add("ft_*", NUMERIC(numtype=int, bits=64, signed=True), glob=True)
    schema.add("ff_*", NUMERIC(numtype=float), glob=True)
    schema.add("fd_*", DATETIME(), glob=True)
    schema.add("fi_*", ID(), glob=True)
    schema.add("fu_*", ID(), glob=True)
    return schema


_INT_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}


def filter_kind(field, model):
    field_type = field.get_type(model)
    if field_type in ("BooleanField", "NullBooleanField"):
        return "fb"
    if field_type in _INT_TYPES:
        return "fn"
    if field_type in ("FloatField", "DecimalField"):
        return "ff"
    if field_type in ("DateField", "DateTimeField"):
        return "fd"
    if field_type == "TimeField":
        return "ft"
    if field_type == "UUIDField":
        return "fu"
    return "fi"


def clean_filter_value(kind, value):
    """Convert a Python value to what the Whoosh field of ``kind`` stores. Raises Untranslatable."""
    if isinstance(value, models.Model):
        value = value.pk
    if hasattr(value, "resolve_expression"):
        raise Untranslatable
    try:
        if kind == "fb":
            if isinstance(value, str):
                raise Untranslatable
            return bool(value)
        if kind == "fn":
            return int(value)
        if kind == "ff":
            return float(value)
        if kind == "fd":
            if isinstance(value, datetime.datetime):
                if timezone.is_aware(value):
                    value = timezone.make_naive(value, datetime.UTC)
                return value
            if isinstance(value, datetime.date):
                return datetime.datetime(value.year, value.month, value.day)
            raise Untranslatable
        if kind == "ft":
            if isinstance(value, datetime.time):
                return (
                    value.hour * 3600_000_000
                    + value.minute * 60_000_000
                    + value.second * 1_000_000
                    + (value.microsecond)
                )
            raise Untranslatable
        if kind == "fu":
            return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex
    except (TypeError, ValueError, AttributeError, decimal.InvalidOperation) as exc:
        raise Untranslatable from exc
    if isinstance(value, uuid.UUID):
        return value.hex
    return force_str(value)


ALL_TEXT = "x_all"


def boost_bucket(boost):
    """The catch-all field for SearchFields with ``boost`` (``x_all`` or ``x_b2``, ``x_b1_5`` ...).

    Like Elasticsearch's ``_all_text`` / ``_all_text_boost_N``: a search without ``fields=`` queries one
    field per distinct boost instead of every field of every subclass.
    """
    boost = float(boost or 1)
    if boost == 1:
        return ALL_TEXT
    return "x_b" + (f"{boost:g}").replace(".", "_").replace("-", "m")


def flatten_text(value, sep="\n"):
    """``value`` as one text: lists, tuples and dict values (nested too) joined with ``sep``, ``None``
    as an empty string, anything else through ``force_str``. For what search fields return."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return sep.join(flatten_text(item, sep) for item in value)
    if isinstance(value, dict):
        return sep.join(flatten_text(item, sep) for item in value.values())
    return force_str(value)


def related_objects(field, obj):
    sub = field.get_value(obj)
    if sub is None:
        return []
    if isinstance(sub, Manager):
        return list(sub.all())
    if callable(sub):
        sub = sub()
    if sub is None:
        return []
    return [sub]


def model_label(model):
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _content_type_labels(model):
    labels = [model_label(model)]
    for parent in model._meta.get_parent_list():
        labels.append(model_label(parent))
    return labels


def build_document(obj):
    """The Whoosh document (a dict) for ``obj``."""
    model = type(obj)
    doc = {"pk": force_str(obj.pk), "ct": " ".join(_content_type_labels(model))}
    texts = {}
    nulls = []

    def walk(target, target_model, fields, prefix, top_level):
        for field in fields:
            if isinstance(field, RelatedFields):
                for sub_obj in related_objects(field, target):
                    walk(sub_obj, type(sub_obj), field.fields, prefix + field.field_name + "__", False)
            elif isinstance(field, SearchField):
                text = flatten_text(field.get_value(target))
                texts.setdefault("s_" + prefix + field.field_name, []).append(text)
                texts.setdefault(boost_bucket(field.boost), []).append(text)
            elif isinstance(field, AutocompleteField):
                text = flatten_text(field.get_value(target))
                texts.setdefault("ac_" + prefix + field.field_name, []).append(text)
            elif isinstance(field, FilterField) and top_level:
                # Filters through RelatedFields are applied by the ORM (see query.py, _process_lookup).
                kind = filter_kind(field, target_model)
                name = kind + "_" + field.get_attname(target_model)
                value = field.get_value(target)
                if value is None:
                    nulls.append(name)
                    continue
                try:
                    doc[name] = clean_filter_value(kind, value)
                except Untranslatable:
                    continue

    walk(obj, model, model.get_search_fields(), "", True)
    for name, parts in texts.items():
        text = "\n".join(part for part in parts if part)
        if text:
            doc[name] = text
    if nulls:
        doc["nulls"] = " ".join(nulls)
    return doc
