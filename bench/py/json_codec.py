"""json_codec.py -- CPython's json module on the document of
bench/json_codec.lua (N records), keys sorted as asyncio.json sorts them.
Usage: python3 json_codec.py [N].  Prints one RESULT line."""
import json
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
recs = [{"id": i, "name": "item %d é" % i, "tags": ["a", "b", "c"],
         "price": i * 1.25, "ok": i % 2 == 0, "none": None,
         "nested": {"x": i, "y": [1, 2, 3]}} for i in range(N)]
text = json.dumps(recs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def best(fn):
    t = float("inf")
    for _ in range(5):
        c0 = time.process_time()
        fn()
        t = min(t, time.process_time() - c0)
    return t


td = best(lambda: json.loads(text))
te = best(lambda: json.dumps(recs, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False))
n = len(text.encode())
print("RESULT bytes=%d decode_mb_s=%.1f encode_mb_s=%.1f" % (n, n / 1e6 / td, n / 1e6 / te))
