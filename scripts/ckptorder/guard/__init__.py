"""The guard: what the audit imports of a graph it did not write, and the checks of all of it
before TensorFlow sees any. It may import `tfsession` alone of the package.

A `.meta` file or a `saved_model.pb` is a program. Restoring runs the restore op its
`saver_def` names, initialising runs the initializers it holds, reading a variable runs its
read op; and importing a graph already runs ops: TensorFlow's shape inference evaluates small
constant subgraphs. So the audit imports only what it needs (`importing`): every variable op,
what the variables collection names of each variable (initializer, initial value, read op),
the Saver's restore op and filename, what a caller fetches (a SavedModel's init op) and the
inference check's output. From those it follows data inputs, control inputs and every
function any attribute names, at any depth (`graph_program`). The guard (`checks`) checks
exactly that part, before any of it is imported:
- every op is on an allow-list of what initialising and restoring need (`op_table`; pure
  math, FORWARD_OPS, on the inference check's path alone: the built network's output, or a
  SavedModel's signature, checked after each load by `checks.forward_refusals`), and no
  function is recursive nor called past a bound;
- a tensor the audit feeds (the Saver's filename, the network's input) is a leaf, and a
  `RestoreV2` reads the Saver's filename itself, and only on the restore op's path;
- a lookup table's vocabulary file is an asset of the SavedModel, a file of its own folder
  (`savedmodel_parts`), and what importing a SavedModel may evaluate only computes;
- an op that can give more than its inputs has a size known in advance, within a budget tied
  to the checkpoint (`graph_sizes`, `size_checks`), a function's ops given what each call
  passes it.
It reads the graph as a protocol buffer, in time and memory linear in the file.
"""
