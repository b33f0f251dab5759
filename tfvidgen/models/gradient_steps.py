"""One training step, written once per backend: the families describe it, these run it.

A family's training step is a list of `Phase`s, each an optimizer, the
variables it updates and a function returning `(loss, terms)`. Phases run in
order and each sees the variables the ones before it updated (the GAN's
generator phase sees the discriminator just updated). Then `record(terms)`
updates the metric trackers and returns the logs.

- TensorFlow: a `tf.GradientTape` per phase and `apply_gradients`.
- JAX: Keras' JAX trainer hands `train_step` the state as arrays and wants
  new arrays back. As the Keras authors advise, every variable is mapped to
  its current value in a `keras.StatelessScope`, the phase's variables to the
  traced arguments of `jax.value_and_grad`; the same family code then runs
  unchanged, and what it assigns (batch-norm statistics, seed generators,
  metrics) is read back from the scope. `optimizer.stateless_apply` updates.
"""

import collections

import keras

Phase = collections.namedtuple("Phase", ["optimizer", "variables", "loss"])


class PhasedSteps:
    """Mixin (before `keras.Model`): `train_step`/`test_step` from a family's description, on every backend.

    The family implements `_training_phases(data)` (a list of `Phase`),
    `_record(terms)` (trackers updated, logs returned) and
    `_evaluation_logs(data)`.

    A step whose loss or gradients are NaN or inf (on any replica) changes
    nothing but the metrics from that phase on: no optimizer update, the
    batch-norm statistics and seed states of before the step. On TensorFlow a
    phase before the bad one keeps its update (it had a finite loss and finite
    gradients: the GAN's discriminator when only the generator's loss fails);
    on JAX the whole step is undone. `VideoModel.fit`'s
    `tfvidgen.callbacks.FiniteLossCheck` then stops with a `FloatingPointError`
    naming the step.
    """

    skips_non_finite_steps = True  # What FiniteLossCheck tells.

    def train_step(self, *args):
        return train_step(self, args, self._training_phases, self._record)

    def test_step(self, *args):
        return test_step(self, args, self._evaluation_logs)


def train_step(model, args, phases, record):
    """`train_step(data)` on TensorFlow, `train_step(state, data)` on JAX.

    Args:
        model: the `keras.Model` being trained.
        args: the arguments Keras gave `train_step`.
        phases: `data -> [Phase]`.
        record: `[terms] -> logs`, one `terms` per phase.
    """
    if keras.backend.backend() == "jax":
        state, data = args
        return _jax_train_step(model, state, phases(data), record)
    _check_backend()
    (data,) = args
    return _tensorflow_train_step(model, phases(data), record)


def _check_backend():
    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            f"tfvidgen's models train on the TensorFlow and JAX backends; KERAS_BACKEND is "
            f"{keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow or jax."
        )


def test_step(model, args, evaluate):
    """`test_step(data)` on TensorFlow, `test_step(state, data)` on JAX; `evaluate: data -> logs`."""
    if keras.backend.backend() == "jax":
        state, data = args
        groups = (model.trainable_variables, model.non_trainable_variables, model.metrics_variables)
        variables = [variable for group in groups for variable in group]
        logs, values = _run_in_scope(variables, _values(groups, state), lambda: evaluate(data))
        return logs, _state(groups, values)
    (data,) = args
    return evaluate(data)


def _tensorflow_train_step(model, phases, record):
    import tensorflow as tf

    # Batch-norm statistics and seed states change in the forward pass, before the loss says whether to keep them.
    state = model.non_trainable_variables
    saved_state = [tf.identity(variable.value) for variable in state]
    all_terms = []
    finite = tf.constant(True)
    for optimizer, variables, loss_fn in phases:
        with tf.GradientTape() as tape:
            loss, terms = loss_fn()
            scaled_loss = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, variables)
        finite = tf.logical_and(finite, _finite_on_every_replica(loss, _checked_gradients(optimizer, gradients)))
        _apply_gradients_if(finite, optimizer, gradients, variables)
        all_terms.append(terms)
    for variable, value in zip(state, saved_state):
        variable.assign(tf.where(finite, variable.value, value))
    return record(all_terms)


def _apply_gradients_if(finite, optimizer, gradients, variables):
    """`optimizer.apply_gradients` where `finite` (the same on every replica), else nothing: no step, no state."""
    import tensorflow as tf

    def apply(gradients, variables):
        optimizer.apply_gradients(zip(gradients, variables))

    # tf.__internal__ (private): the test Keras' own LossScaleOptimizer makes for the same cond, no public twin.
    if tf.__internal__.distribute.strategy_supports_no_merge_call():
        tf.cond(finite, lambda: apply(gradients, variables), lambda: None)
        return

    # As Keras' LossScaleOptimizer does: a strategy whose apply_gradients calls merge_call (MirroredStrategy)
    # allows no cond around it in a replica context, so the cond runs in the cross-replica context.
    def cross_replica(distribution, finite, gradients, variables):
        finite = distribution.experimental_local_results(finite)[0]
        tf.cond(
            finite,
            lambda: distribution.extended.call_for_each_replica(apply, args=(gradients, variables)),
            lambda: None,
        )

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(finite, gradients, variables))


def _checked_gradients(optimizer, gradients):
    """The gradients whose finiteness decides the step: none under loss scaling, which skips inf steps itself.

    A finite loss with an inf gradient (an exploding phase) would write inf into
    the weights, and in the GAN into the next phase's loss. A
    `LossScaleOptimizer` must see its inf gradients: they lower its scale.
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return []
    return [gradient for gradient in gradients if gradient is not None]


def _finite_on_every_replica(loss, gradients=()):
    """Whether `loss` and `gradients` are finite on every replica: all of them apply a step or none does."""
    import tensorflow as tf

    finite = tf.reduce_all(tf.math.is_finite(tf.cast(loss, tf.float32)))
    for gradient in gradients:
        finite = tf.logical_and(finite, tf.reduce_all(tf.math.is_finite(gradient)))
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return finite
    return context.all_reduce("SUM", tf.cast(tf.logical_not(finite), tf.float32)) < 0.5


def _values(groups, state):
    """`{id(variable): value}` from Keras' JAX state: one list of values per group of variables."""
    return {id(variable): value for group, values in zip(groups, state) for variable, value in zip(group, values)}


def _state(groups, values):
    """The inverse of `_values`: one list of values per group, in the groups' order."""
    return tuple([values[id(variable)] for variable in group] for group in groups)


def _run_in_scope(variables, values, function, overrides=()):
    """Runs `function` with every variable read as `values[id]` (or `overrides`).

    Returns its result and the new values (what it assigned, else the old ones).
    """
    mapping = dict(values)
    mapping.update(overrides)
    with keras.StatelessScope(state_mapping=[(v, mapping[id(v)]) for v in variables]) as scope:
        result = function()
    updated = dict(values)
    for variable in variables:
        value = scope.get_current_value(variable)
        if value is not None:
            updated[id(variable)] = value
    return result, updated


def _jax_train_step(model, state, phases, record):
    import jax

    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        list(model.optimizer.variables),
        model.metrics_variables,
    )
    variables = [variable for group in groups for variable in group]
    values = _values(groups, state)
    before = values
    finite = True
    all_terms = []
    for optimizer, phase_variables, loss_fn in phases:
        ids = [id(v) for v in phase_variables]

        def scaled_loss(phase_values, values=values, loss_fn=loss_fn, optimizer=optimizer, ids=ids):
            def run():
                loss, terms = loss_fn()
                return optimizer.scale_loss(loss), terms

            (loss, terms), updated = _run_in_scope(variables, values, run, overrides=zip(ids, phase_values))
            return loss, (terms, {key: value for key, value in updated.items() if key not in ids})

        (loss, (terms, updates)), gradients = jax.value_and_grad(scaled_loss, has_aux=True)([values[i] for i in ids])
        finite = jax.numpy.logical_and(finite, jax.numpy.all(jax.numpy.isfinite(loss)))
        for gradient in _checked_gradients(optimizer, gradients):
            finite = jax.numpy.logical_and(finite, jax.numpy.all(jax.numpy.isfinite(gradient)))
        values = {**values, **updates}
        new_phase_values, new_optimizer_values = optimizer.stateless_apply(
            [values[id(v)] for v in optimizer.variables], gradients, [values[i] for i in ids]
        )
        values.update(zip(ids, new_phase_values))
        values.update(zip((id(v) for v in optimizer.variables), new_optimizer_values))
        all_terms.append(terms)
    # A non-finite loss keeps the state of before the step (weights, optimizer, batch-norm statistics); the
    # metrics still see the step, so its logs show the NaN.
    kept = {id(variable) for variable in model.metrics_variables}
    values = {
        key: value if key in kept else jax.numpy.where(finite, value, before[key]) for key, value in values.items()
    }
    logs, values = _run_in_scope(variables, values, lambda: record(all_terms))
    return logs, _state(groups, values)


class OptimizerGroup:
    """Two or more optimizers seen by Keras' JAX trainer as one `model.optimizer`.

    That trainer carries `model.optimizer.variables` through the compiled step;
    a model with several optimizers (the GAN) sets this group as its
    `optimizer` so every optimizer's state travels, and its own step applies
    each optimizer to its variables. Saving goes through the optimizers
    themselves (attributes of the model), not through the group.
    """

    built = True

    def __init__(self, optimizers):
        self.optimizers = list(optimizers)

    @property
    def variables(self):
        return [variable for optimizer in self.optimizers for variable in optimizer.variables]

    @property
    def iterations(self):
        return self.optimizers[-1].iterations

    def build(self, variables):
        """Built already: each optimizer is built on its own variables by the model's `compile`."""
