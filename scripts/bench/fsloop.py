# fsloop.c where there is no C compiler; same arguments and output (see there).
import os, sys, time
mode, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(sys.argv[4], "rb") as f:
    ref = f.read()
bad = 0
start = time.perf_counter()
for i in range(n):
    try:
        if mode in ("write", "writesync"):
            fd = os.open("%s/f%05d" % (target, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                bad += os.write(fd, ref) != len(ref)
                if mode == "writesync":
                    os.fsync(fd)
            finally:
                os.close(fd)
        else:
            fd = os.open(target, os.O_RDONLY)
            try:
                bad += os.read(fd, 65536) != ref
            finally:
                os.close(fd)
    except OSError:
        bad += 1
print("%.9f %d" % (time.perf_counter() - start, bad))
