"""How tf.train.Checkpoint keys a TF2 object's variable: by its object path from the root
(each name escaped), with VALUE_SUFFIX; an optimizer's slots under their variable's. Read off
a checkpoint's keys, and off the objects a load or a model gives."""

from collections import deque

from ckptorder.tfsession import tf

# A TF2 object's variable value under its path in a checkpoint's keys.
VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
# TensorFlow's escape in an object path's names (trackable_utils.escape_local_name).
ESCAPE = "."


def variable_keys(reader):
    """The keys of variable values in a checkpoint's `reader`: a TF2 object's (ending
    VALUE_SUFFIX) where the checkpoint holds an object graph, else every key (a TF1 Saver's)."""
    keys = reader.get_variable_to_shape_map()
    objects = [key for key in keys if key.endswith(VALUE_SUFFIX)]
    return sorted(objects) if objects else sorted(k for k in keys if not k.startswith("_"))


def variable_name(key):
    return key.removesuffix(VALUE_SUFFIX)


def escaped(name):
    return name.replace(ESCAPE, ESCAPE * 2).replace("/", ESCAPE + "S")


def walked(root):
    """(path, object) of each object reachable from `root`, by the first path a breadth-first
    walk finds."""
    seen = set()
    queue = deque([(root, "")])
    while queue:
        obj, path = queue.popleft()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield path, obj
        for name, child in tf.train.TrackableView(obj).children(obj).items():
            queue.append((child, f"{path}/{escaped(name)}".lstrip("/")))


def object_variables(root):
    """Each variable reachable from the loaded object `root`, by its checkpoint key (its path,
    `walked`), then each optimizer's slot variables (`slot_variables`)."""
    found, optimizers = {}, []
    for path, obj in walked(root):
        if isinstance(obj, tf.Variable):
            found.setdefault(path + VALUE_SUFFIX, obj)
        if hasattr(obj, "get_slot_names") and hasattr(obj, "get_slot"):
            optimizers.append((path, obj))
    return found | slot_variables(found, optimizers)


def slot_variables(variables, optimizers):
    """Each slot variable of the `optimizers` (path, optimizer: a Keras 2 OptimizerV2, which
    keeps its slots apart from its children) for the `variables` (key to variable), by its key:
    VARIABLE/.OPTIMIZER_SLOT/OPTIMIZER/SLOT, as TensorFlow keys them."""
    found = {}
    for path, optimizer in optimizers:
        for key, variable in variables.items():
            for slot_name in optimizer.get_slot_names():
                try:
                    slot = optimizer.get_slot(variable, slot_name)
                except KeyError:  # no slot of that name for this variable
                    continue
                held = f"{variable_name(key)}/.OPTIMIZER_SLOT/{path}/{slot_name}"
                found[held + VALUE_SUFFIX] = slot
    return found
