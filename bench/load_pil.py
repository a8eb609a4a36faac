"""PIL's single-thread rate on an image folder, the reference bench/load-folder.ts compares with:
walk the folder, then for each PNG open + convert('L') + resize + np.asarray into one uint8 array.
Prints one JSON line: images, seconds (walk included), walk seconds."""
import json
import os
import sys
import time

import numpy as np
from PIL import Image

root, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
files = []
for folder, dirs, names in os.walk(root):
    dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
    files.extend(os.path.join(folder, n) for n in sorted(names) if n.lower().endswith('.png'))
walked = time.perf_counter()
out = np.empty((len(files), height, width), np.uint8)
for i, path in enumerate(files):
    with Image.open(path) as im:
        out[i] = np.asarray(im.convert('L').resize((width, height)))
end = time.perf_counter()
print(json.dumps({'images': len(files), 'seconds': end - start, 'walk': walked - start, 'pil': Image.__version__}))
