"""Writes the kernels-ptx/*.ptx files from the generators beside this script. Run from anywhere:
    python3 kernels-ptx/gen/generate.py
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gemm  # noqa: E402

out = os.path.dirname(here)
files = {"gemm_tf32_mma.ptx": gemm.gemm("tf32"), "gemm_bf16_mma.ptx": gemm.gemm("bf16")}
try:
    import attention  # noqa: E402
    files["attention_fwd.ptx"] = attention.attention()
except ImportError:
    pass
for name, text in files.items():
    with open(os.path.join(out, name), "w", newline="\n") as f:
        f.write(text)
    print(f"wrote kernels-ptx/{name} ({text.count(chr(10))} lines)")
