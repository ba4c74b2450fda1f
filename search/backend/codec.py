"""A more compact Whoosh codec: Whoosh 3's format with small posting lists stored in the term table.

Whoosh 3 (``W3Codec``) writes every term's postings as a block of its own in the postings file: a
4-byte header, a 4-byte length, a pickled block-info tuple and a zlib-compressed pickled data tuple,
plus a 35-byte entry in the term table pointing at it - about 200 bytes for a term that occurs in one
document. Most terms of this index are like that (the adjacent-word shingles of the catch-all fields,
the edge n-grams of autocomplete fields), so those bytes were most of the index, and writing them
most of a rebuild's time. (W3Codec has an ``inlinelimit`` for this, but its writer calls a method
its term info does not have, so Whoosh never inlines.)

``CompactCodec`` keeps Whoosh 3's files and its posting blocks for longer lists (what
``search.backend.fastscore`` reads), and changes two things:

* a posting list of at most ``INLINE_LIMIT`` postings is stored inside its term's entry in the term
  table, as varints (document numbers as deltas; weights omitted when all 1.0, one float when equal;
  values concatenated when the format's values have a fixed size, once when they are all equal),
  and read back as the ``(ids, weights, values)`` tuples Whoosh's ``ListMatcher`` takes;
* the term info itself is written with varints and flags (about 8 bytes instead of 35), and a block is
  compressed only when that makes it smaller.

Scores are unchanged: weights stay 32-bit floats and field lengths the same one-byte codes as in
Whoosh 3. Segments written by ``W3Codec`` stay readable (each segment names its codec).
"""

from __future__ import annotations

import struct
import zlib
from hashlib import md5
from pickle import dumps

from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldCursor,
    W3FieldWriter,
    W3PostingsWriter,
    W3TermInfo,
    W3TermsReader,
)
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.filedb.filetables import _lengths as _LENGTHS
from whoosh.filedb.filetables import _pointer as _POINTER
from whoosh.reading import TermNotFound
from whoosh.system import emptybytes, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

__all__ = ["INLINE_LIMIT", "CompactCodec"]

# Posting lists of up to this many postings live in the term table.
INLINE_LIMIT = 8

_FLOAT = struct.Struct("!f")

# Term info flags.
_INLINED = 1
_WEIGHT_IS_DF = 2  # total weight == document frequency (every weight 1.0): not stored
_MAXWEIGHT_ONE = 4  # maximum weight 1.0: not stored
_NO_IDS = 8  # no min/max id (an empty posting list)
_COMPACT = 128  # always set: tells these entries from Whoosh 3's (flags 0 or 1)

# Inlined weights and values.
_W_ONES, _W_SAME, _W_EACH = 0, 1, 2
_V_NONE, _V_SAME, _V_FIXED, _V_EACH = 0, 1, 2, 3
_V_FREQ = 4  # each value is the 4-byte frequency a frequency field keeps, equal to the weight
_UINT = struct.Struct("!I")


def _varint_bytes(value):
    out = bytearray()
    _put_varint(out, value)
    return bytes(out)


def _put_varint(out, value):
    if value < _VARINT_TABLE_SIZE:
        out += _VARINTS[value]
        return
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


_VARINT_TABLE_SIZE = 0
_VARINTS = [_varint_bytes(value) for value in range(1 << 14)]  # every 1- and 2-byte varint
_VARINT_TABLE_SIZE = len(_VARINTS)


def _get_varint(data, pos):
    result = 0
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _float32(value):
    return _FLOAT.unpack(_FLOAT.pack(value))[0]


class CompactTermInfo(W3TermInfo):
    """``W3TermInfo`` written with varints, and able to hold its postings inline."""

    def set_inlined(self, ids, weights, values):
        self._inlined = (tuple(ids), tuple(weights), tuple(values))

    def to_bytes(self):
        out = bytearray(1)
        flags = _COMPACT
        weight = _float32(self._weight)
        if weight == self._df:
            flags |= _WEIGHT_IS_DF
        else:
            out += _FLOAT.pack(weight)
        _put_varint(out, self._df)
        out.append(0 if self._minlength is None else length_to_byte(self._minlength))
        out.append(length_to_byte(self._maxlength))
        if self._maxweight == 1.0:
            flags |= _MAXWEIGHT_ONE
        else:
            out += _FLOAT.pack(self._maxweight)
        if self._inlined is not None and self._inlined[0]:
            flags |= _INLINED  # min and max id: the first and last inlined posting's
            _encode_postings(out, *self._inlined)
        else:
            if self._minid is None:
                flags |= _NO_IDS
            else:
                _put_varint(out, self._minid)
                _put_varint(out, self._maxid - self._minid)
            _put_varint(out, self._offset)
            _put_varint(out, self._length)
        out[0] = flags
        return bytes(out)

    @classmethod
    def from_bytes(cls, s):
        flags = s[0]
        if not flags & _COMPACT:
            return W3TermInfo.from_bytes(s)
        info = cls()
        pos = 1
        if not flags & _WEIGHT_IS_DF:
            info._weight = _FLOAT.unpack_from(s, pos)[0]
            pos += 4
        info._df, pos = _get_varint(s, pos)
        if flags & _WEIGHT_IS_DF:
            info._weight = float(info._df)
        info._minlength = byte_to_length(s[pos])
        info._maxlength = byte_to_length(s[pos + 1])
        pos += 2
        if flags & _MAXWEIGHT_ONE:
            info._maxweight = 1.0
        else:
            info._maxweight = _FLOAT.unpack_from(s, pos)[0]
            pos += 4
        if flags & _INLINED:
            info._inlined = _decode_postings(s, pos)
            info._minid, info._maxid = info._inlined[0][0], info._inlined[0][-1]
            return info
        if flags & _NO_IDS:
            info._minid = info._maxid = None
        else:
            info._minid, pos = _get_varint(s, pos)
            delta, pos = _get_varint(s, pos)
            info._maxid = info._minid + delta
        info._offset, pos = _get_varint(s, pos)
        info._length, pos = _get_varint(s, pos)
        return info


def _weight_and_df(s):
    """(total weight, document frequency) from the start of a term's entry."""
    flags = s[0]
    if not flags & _COMPACT:
        info = W3TermInfo.from_bytes(s)
        return info.weight(), info.doc_frequency()
    if flags & _WEIGHT_IS_DF:
        df = _get_varint(s, 1)[0]
        return float(df), df
    return _FLOAT.unpack_from(s, 1)[0], _get_varint(s, 5)[0]


def _encode_postings(out, ids, weights, values):
    _put_varint(out, len(ids))
    last = 0
    for docnum in ids:
        _put_varint(out, docnum - last)
        last = docnum
    if all(w == 1.0 for w in weights):
        out.append(_W_ONES)
    elif all(w == weights[0] for w in weights):
        out.append(_W_SAME)
        out += _FLOAT.pack(weights[0])
    else:
        out.append(_W_EACH)
        out += struct.pack(f"!{len(weights)}f", *weights)
    # Whoosh keeps only the non-empty values, so there may be fewer values than ids.
    if not values or values[0] is None:
        out.append(_V_NONE)
        return
    first = values[0]
    if len(values) == len(weights) and all(
        w.is_integer() and 0 < w < 2**32 and v == _UINT.pack(int(w))
        for v, w in zip(values, weights, strict=True)
    ):
        out.append(_V_FREQ)
    elif all(v == first for v in values):
        out.append(_V_SAME)
        _put_varint(out, len(values))
        _put_varint(out, len(first))
        out += first
    elif all(len(v) == len(first) for v in values):
        out.append(_V_FIXED)
        _put_varint(out, len(values))
        _put_varint(out, len(first))
        out += emptybytes.join(values)
    else:
        out.append(_V_EACH)
        _put_varint(out, len(values))
        for value in values:
            _put_varint(out, len(value))
            out += value


def _decode_postings(s, pos):
    count, pos = _get_varint(s, pos)
    ids = []
    last = 0
    for _ in range(count):
        delta, pos = _get_varint(s, pos)
        last += delta
        ids.append(last)
    kind = s[pos]
    pos += 1
    if kind == _W_ONES:
        weights = (1.0,) * count
    elif kind == _W_SAME:
        weights = (_FLOAT.unpack_from(s, pos)[0],) * count
        pos += 4
    else:
        weights = struct.unpack_from(f"!{count}f", s, pos)
        pos += 4 * count
    kind = s[pos]
    pos += 1
    if kind == _V_NONE:
        values = (None,) * count  # what W3LeafMatcher.value() gives for a format without values
    elif kind == _V_FREQ:
        values = tuple(_UINT.pack(int(w)) for w in weights)
    else:
        nvalues, pos = _get_varint(s, pos)
        if kind == _V_EACH:
            values = []
            for _ in range(nvalues):
                size, pos = _get_varint(s, pos)
                values.append(bytes(s[pos : pos + size]))
                pos += size
            values = tuple(values)
        else:
            size, pos = _get_varint(s, pos)
            if kind == _V_SAME:
                values = (bytes(s[pos : pos + size]),) * nvalues
            else:
                values = tuple(bytes(s[pos + i * size : pos + (i + 1) * size]) for i in range(nvalues))
    return tuple(ids), tuple(weights), values


class CompactPostingsWriter(W3PostingsWriter):
    def finish_postings(self):
        terminfo = self._terminfo
        if not self.written() and len(self) <= self._inlinelimit:
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, self._values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()

    def _write_block(self, last=False):
        # As W3PostingsWriter._write_block (the same bytes for W3LeafMatcher to read), but the data is
        # compressed only when that makes it smaller.
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        databytes = dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 2)
        comp = 0
        if self._compression and len(databytes) > 64:
            compressed = zlib.compress(databytes, self._compression)
            if len(compressed) < len(databytes):
                databytes, comp = compressed, self._compression
        ids = self._ids
        infobytes = dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(databytes)
        if last:
            blocklength *= -1
        self._postfile.write_int(blocklength)
        self._postfile.write(infobytes)
        self._postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


# Pieces of the entry of a term with one posting of weight 1.0 (see CompactTermInfo.to_bytes).
_ONE_POSTING_FLAGS = _COMPACT | _INLINED | _WEIGHT_IS_DF | _MAXWEIGHT_ONE
# flags, df 1, min and max length byte, the inlined postings' count 1
_ONE_POSTING_HEADS = [bytes((_ONE_POSTING_FLAGS, 1, b, b, 1)) for b in range(256)]
_ONE_POSTING_TAILS = {}
_FREQUENCY_ONE = _UINT.pack(1)


def _one_posting_tail(value):
    """After the document number: weights all 1.0, then the value (``_encode_postings``)."""
    tail = _ONE_POSTING_TAILS.get(value)
    if tail is None:
        out = bytearray((_W_ONES,))
        if value is None:
            out.append(_V_NONE)
        elif value == _FREQUENCY_ONE:  # weight 1.0
            out.append(_V_FREQ)
        else:
            out.append(_V_SAME)
            _put_varint(out, 1)
            _put_varint(out, len(value))
            out += value
        tail = bytes(out)
        if len(_ONE_POSTING_TAILS) < 100_000:
            _ONE_POSTING_TAILS[value] = tail
    return tail


class _TermTable(OrderedHashWriter):
    """Whoosh's ``OrderedHashWriter`` (what ``OrderedHashReader`` reads), with one write per entry
    instead of three ``tell``s and writes. (Hash tables stay twice the number of their keys: at 1.25
    times, linear probing needed ~13 reads to tell a term is missing, and searches look up many
    missing terms.)"""

    def __init__(self, dbfile):
        super().__init__(dbfile)
        if self.hashfn is not md5_hash:
            raise ValueError("_TermTable hashes keys as md5_hash does")
        self._position = dbfile.tell()
        self._pending = []  # entries not written yet: written together, about a megabyte at a time
        self._pending_from = self._position

    def add(self, key, value):
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        position = self._position
        self.index.append(position)
        entry = _LENGTHS.pack(len(key), len(value)) + key + value
        self._pending.append(entry)
        self._position = position + len(entry)
        if self._position - self._pending_from > 1 << 20:
            self._write_pending()
        # filetables.md5_hash (what the reader computes): the digest's low 32 bits.
        h = int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")
        self.buckets[h & 255].append((h, position))
        self.lastkey = key

    def _write_pending(self):
        if self._pending:
            self.dbfile.write(b"".join(self._pending))
            self._pending = []
        self._pending_from = self._position

    def close(self):
        self._write_pending()
        return super().close()

    def _write_hashes(self):
        dbfile = self.dbfile
        pack = _POINTER.pack
        empty = pack(0, 0)
        for entries in self.buckets:
            position = dbfile.tell()
            numslots = 2 * len(entries)
            self.directory.append((position, numslots))
            table = [empty] * numslots
            for hashval, entry_position in entries:
                slot = (hashval >> 8) % numslots
                while table[slot] is not empty:
                    slot = (slot + 1) % numslots
                table[slot] = pack(hashval, entry_position)
            dbfile.write(b"".join(table))


class CompactFieldWriter(W3FieldWriter):
    def __init__(self, codec, storage, segment):
        # W3FieldWriter.__init__, with a _TermTable.
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = None
        self._fieldid = None
        self._btext = None
        self._fieldobj = None
        self._format = None
        self._tindex = _TermTable(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False

    def add_term(self, btext, docnums, weights, values, lengths):
        """Write one term's whole posting list at once (``search.backend.bulk``): ``docnums`` ascending,
        ``weights`` and ``lengths`` (decoded field lengths, 0 when not scored) for each, ``values``
        for each or none at all."""
        count = len(docnums)
        if values and len(values) != count:
            raise ValueError("values must be given for every posting or for none")
        if count == 1 and weights[0] == 1.0:
            # Most terms (shingles, n-grams, words of one document): the bytes CompactTermInfo.to_bytes
            # writes for them, from parts computed once.
            docnum = _varint_bytes(docnums[0]) if docnums[0] >= _VARINT_TABLE_SIZE else _VARINTS[docnums[0]]
            length = lengths[0]
            head = _ONE_POSTING_HEADS[length_to_byte(length) if length else 0]
            value = values[0] if values else None
            tail = _one_posting_tail(value)
            self._tindex.add(pack_ushort(self._fieldid) + btext, head + docnum + tail)
            return
        if count > self._codec._inlinelimit:
            # Block by block, as W3PostingsWriter.add_posting fills them one posting at a time.
            self.start_term(btext)
            writer = self._postwriter
            limit = writer._blocklimit
            for start in range(0, count, limit):
                end = min(start + limit, count)
                writer._ids = docnums[start:end]
                writer._weights = weights[start:end]
                writer._values = values[start:end] if values else []
                writer._maxweight = max(0, max(writer._weights))
                scored = [length for length in lengths[start:end] if length]
                writer._minlength = min(scored) if scored else None
                writer._maxlength = max(scored) if scored else 0
                if end < count:
                    writer._write_block()
            self.finish_term()  # writes the last block
            return
        # What W3PostingsWriter and W3TermInfo.add_block compute for one block, inlined: the bytes of
        # CompactTermInfo.to_bytes, without making the object.
        out = bytearray(1)
        flags = _COMPACT | _INLINED
        weight = sum(weights)
        if _float32(weight) == count:
            flags |= _WEIGHT_IS_DF
        else:
            out += _FLOAT.pack(weight)
        _put_varint(out, count)
        scored = [length for length in lengths if length]
        if scored:
            out.append(length_to_byte(min(scored)))
            out.append(length_to_byte(max(scored)))
        else:
            out += b"\x00\x00"
        maxweight = max(0, max(weights))
        if maxweight == 1.0:
            flags |= _MAXWEIGHT_ONE
        else:
            out += _FLOAT.pack(maxweight)
        if count == 1:  # most terms (what _encode_postings writes for one posting)
            out += _VARINTS[1]
            _put_varint(out, docnums[0])
            if maxweight == 1.0:
                out.append(_W_ONES)
            else:
                out.append(_W_SAME)
                out += _FLOAT.pack(maxweight)
            if not values or values[0] is None:
                out.append(_V_NONE)
            else:
                value = values[0]
                out.append(_V_SAME)
                out += _VARINTS[1]
                _put_varint(out, len(value))
                out += value
        else:
            _encode_postings(out, docnums, weights, values)
        out[0] = flags
        self._tindex.add(pack_ushort(self._fieldid) + btext, bytes(out))

    def add_terms(self, terms, keys, lengths, docbase):
        """``add_term`` for each term of ``keys`` (ascending), whose postings are ``terms[btext]`` =
        ``(docnums, weights, values)``, with each document's decoded field length in ``lengths`` (by
        document number minus ``docbase``; None for a field without lengths). A posting list of one
        posting of weight 1.0 (most terms) is written here directly, as ``add_term`` writes it."""
        add_term = self.add_term
        tindex_add = self._tindex.add
        prefix = pack_ushort(self._fieldid)
        heads = _ONE_POSTING_HEADS
        varints = _VARINTS
        table_size = _VARINT_TABLE_SIZE
        tails = _ONE_POSTING_TAILS
        no_value_tail = _one_posting_tail(None)
        for btext in keys:
            docnums, weights, values = terms[btext]
            if len(docnums) == 1 and weights[0] == 1.0:
                docnum = docnums[0]
                length = lengths[docnum - docbase] if lengths is not None else 0
                if values:
                    value = values[0]
                    tail = tails.get(value) or _one_posting_tail(value)
                else:
                    tail = no_value_tail
                tindex_add(
                    prefix + btext,
                    heads[length_to_byte(length) if length else 0]
                    + (varints[docnum] if docnum < table_size else _varint_bytes(docnum))
                    + tail,
                )
            elif lengths is None:
                add_term(btext, docnums, weights, values, [0] * len(docnums))
            else:
                add_term(btext, docnums, weights, values, [lengths[d - docbase] for d in docnums])

    def start_term(self, btext):
        if self._postwriter is None:
            raise Exception("Called start_term before start_field")
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, CompactTermInfo())


class CompactFieldCursor(W3FieldCursor):
    def term_info(self):
        if self._pos is None:
            return None
        return CompactTermInfo.from_bytes(self._tindex.dbfile.get(self._datapos, self._datalen))


class CompactTermsReader(W3TermsReader):
    def cursor(self, fieldname, fieldobj):
        return CompactFieldCursor(self._tindex, fieldname, self._keycoder, self._keydecoder, fieldobj)

    def items(self):
        decode = self._keydecoder
        return ((decode(k), CompactTermInfo.from_bytes(v)) for k, v in self._tindex.items())

    def items_from(self, fieldname, prefix):
        decode = self._keydecoder
        items = self._tindex.items_from(self._keycoder(fieldname, prefix))
        return ((decode(k), CompactTermInfo.from_bytes(v)) for k, v in items)

    def term_info(self, fieldname, tbytes):
        try:
            return CompactTermInfo.from_bytes(self._tindex[self._keycoder(fieldname, tbytes)])
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None

    # A missing term raises KeyError here, as in W3TermsReader (SegmentReader turns it into 0). Only the
    # head of the entry is read: searches ask these for every term of a query.
    def frequency(self, fieldname, tbytes):
        return _weight_and_df(self._tindex[self._keycoder(fieldname, tbytes)])[0]

    def doc_frequency(self, fieldname, tbytes):
        return _weight_and_df(self._tindex[self._keycoder(fieldname, tbytes)])[1]


class CompactCodec(W3Codec):
    """Whoosh 3's codec with small posting lists in the term table (see the module docstring)."""

    def __init__(self, blocklimit=128, compression=3, inlinelimit=INLINE_LIMIT):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def field_writer(self, storage, segment):
        return CompactFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        return CompactPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def terms_reader(self, storage, segment):
        tiname = segment.make_filename(self.TERMS_EXT)
        tilen = storage.file_length(tiname)
        tifile = storage.open_file(tiname)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return CompactTermsReader(self, tifile, tilen, postfile)
