"""Java for local Spark: pyspark 4 needs Java 17 or newer. Checked before Spark starts, so a
missing or old Java is one clear message naming the fix, not a JVM stack trace from dbt."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

MIN_JAVA = 17
FIX = ("install Java 17 or newer (Debian/Ubuntu: `sudo apt-get install openjdk-17-jre-headless`; "
       "macOS: `brew install openjdk@17`) and put it on PATH or set JAVA_HOME to it. "
       "Check with `java -version`.")


class JavaError(RuntimeError):
    """No usable Java for local Spark; the message says how to fix it."""


def java_executable() -> str | None:
    """The java pyspark will start: $JAVA_HOME/bin/java, else java on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def parse_major(version_output: str) -> int | None:
    """17 from `openjdk version "17.0.15"`, 8 from `java version "1.8.0_392"`."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> int:
    """The Java major version, or JavaError when it is missing or older than 17."""
    java = java_executable()
    if java is None:
        where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" \
            if os.environ.get("JAVA_HOME") else "no `java` on PATH"
        raise JavaError(f"Spark needs Java {MIN_JAVA}+, but {where}: {FIX}")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaError(f"Spark needs Java {MIN_JAVA}+, but `{java} -version` failed ({exc}): "
                        f"{FIX}") from None
    major = parse_major(out.stderr + out.stdout)
    if major is None or major < MIN_JAVA:
        found = f"Java {major}" if major else "an unrecognised Java"
        raise JavaError(f"Spark needs Java {MIN_JAVA}+, but {java} is {found}: {FIX}")
    return major
