"""Reads safetensors files and Hugging Face checkpoint directories with torch alone (no safetensors package).

A safetensors file is an 8-byte little-endian header length, a JSON header (name -> dtype, shape, data offsets)
and the little-endian tensor data.
"""
import json
import os
import struct

import torch

DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    header.pop('__metadata__', None)
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        begin, end = entry['data_offsets']
        raw = bytearray(data[start + begin:start + end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[entry['dtype']]).reshape(entry['shape'])
    return tensors


def read_checkpoint(directory):
    """Every tensor of a checkpoint directory: model.safetensors, or the shards its index names."""
    index = os.path.join(directory, 'model.safetensors.index.json')
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)['weight_map'].values()))
    else:
        files = ['model.safetensors']
    tensors = {}
    for file in files:
        tensors.update(read_safetensors(os.path.join(directory, file)))
    return tensors
