"""alloc_heavy.py — an allocation-heavy Python script for `hakmem bench` (workload "python").

Builds and tears down the kinds of structures Python programs are made of: dicts of
strings, lists of tuples, small objects, growing lists and byte strings, a JSON round trip
and sorting. `hakmem bench` runs it with PYTHONMALLOC=malloc so every object goes through
the allocator under test rather than Python's own small-object pool.

usage: python3 alloc_heavy.py [SCALE]   (SCALE = thousands of records, default 100)
"""
import json
import sys


class Record:
    __slots__ = ("key", "name", "tags", "score")

    def __init__(self, key, name, tags, score):
        self.key = key
        self.name = name
        self.tags = tags
        self.score = score


def build_records(count):
    return [
        Record(i, f"user-{i:07d}", [f"tag{i % 7}", f"group{i % 13}"], (i * 7919) % 1000)
        for i in range(count)
    ]


def index_by_name(records):
    return {record.name: record for record in records}


def grow_and_shrink(count):
    buckets = {}
    for i in range(count):
        buckets.setdefault(i % 997, []).append(str(i) * (1 + i % 5))
    for key in list(buckets)[::2]:
        del buckets[key]
    return sum(len(values) for values in buckets.values())


def json_round_trip(records):
    text = json.dumps([{"key": r.key, "name": r.name, "tags": r.tags} for r in records[: len(records) // 4]])
    return len(json.loads(text))


def byte_building(count):
    chunks = bytearray()
    for i in range(count):
        chunks += i.to_bytes(4, "little") * (1 + i % 16)
    return len(bytes(chunks))


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    count = scale * 1000
    records = build_records(count)
    by_name = index_by_name(records)
    ranked = sorted(records, key=lambda record: (record.score, record.name))
    checksum = len(by_name) + ranked[0].key
    checksum += grow_and_shrink(count)
    checksum += json_round_trip(records)
    checksum += byte_building(count // 4)
    del by_name, ranked, records
    print(f"records={count} checksum={checksum}")


if __name__ == "__main__":
    main()
