"""Reading the data files of a fetched repository straight from its git directory (no work tree)."""

import subprocess


def git_blobs(gitdir, prefix):
    """Yield (path, bytes) for every blob under prefix at HEAD (missing ones skipped)."""
    ls = subprocess.run(
        ["git", "-c", "core.quotepath=off", "--git-dir", gitdir, "ls-tree", "-r", "HEAD", prefix],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    entries = []
    for line in ls:
        meta, path = line.split("\t", 1)
        entries.append((meta.split()[2], path))
    p = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for sha, path in entries:
        p.stdin.write((sha + "\n").encode())
        p.stdin.flush()
        hdr = p.stdout.readline().split()
        if hdr[1] == b"missing":
            continue
        data = p.stdout.read(int(hdr[2]))
        p.stdout.read(1)
        yield path, data
    p.stdin.close()
    p.wait()


def head_commit(gitdir):
    return subprocess.run(
        ["git", "--git-dir", gitdir, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def git_show(gitdir, path):
    return subprocess.run(["git", "--git-dir", gitdir, "show", "HEAD:" + path], capture_output=True, check=True).stdout
