"""The verifier and the pass runner, on programs built by hand with kiln.ir.

Each malformed program must raise VerificationError with a message that says what is wrong,
names the variables as the printer does and shows the program; well-formed ones pass.
"""
from __future__ import annotations

import numpy as np
import pytest

import kiln
from kiln.ir import Eqn, Literal, Loc, Program, ShapedArray, Var
from kiln.passes import PASSES, dce, run_passes
from kiln.passes.verify import VerificationError, verify
from kiln.primitives import primitive, registry, shape_rules

F3 = ShapedArray((3,), np.dtype(np.float32))
F4 = ShapedArray((4,), np.dtype(np.float32))
add, mul, neg = registry["add"], registry["mul"], registry["neg"]


def lit(value, dtype=np.float32):
    return Literal(np.dtype(dtype).type(value), ShapedArray((), np.dtype(dtype)))


def eqn(prim, ins, outs, **params):
    return Eqn(prim, tuple(ins), params, tuple(outs), Loc(__file__, 1, 0, "f"))


def bad(program, *fragments):
    with pytest.raises(VerificationError) as info:
        verify(program, after="my_pass")
    text = str(info.value)
    assert text.startswith("kiln: invalid IR after my_pass: ")
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_good_programs_pass():
    a, b, c, d = Var(F3), Var(F3), Var(F3), Var(F3)
    k = Var(F3)
    program = Program((a, b), (eqn(add, [a, b], [c]), eqn(mul, [c, lit(2.0)], [d])), (d, c, a, lit(1.0)),
                      ((k, np.ones(3, np.float32)),))
    verify(program)
    assert run_passes(program, ["dce"]).consts == ()
    verify(kiln.make_ir(lambda x, y: (x * y + 1.0).sum())(np.ones(3), np.ones(3)))


def test_use_before_definition():
    a, b, c = Var(F3), Var(F3), Var(F3)
    program = Program((a,), (eqn(add, [a, c], [b]), eqn(neg, [a], [c])), (b,))
    text = bad(program, "add uses c:f32[3] (operand 1) before it is defined",
               "in the equation: b:f32[3] = add a c", "program:\n{ lambda ; a:f32[3]. let")
    assert __file__ in text  # where the equation was staged


def test_defined_twice():
    a, b = Var(F3), Var(F3)
    bad(Program((a,), (eqn(neg, [a], [b]), eqn(neg, [a], [b])), (b,)),
        "variable b:f32[3] is defined twice (again as output 0 of neg)")
    bad(Program((a, a), (), (a,)), "variable a:f32[3] is defined twice (again as input 1)")
    bad(Program((a,), (eqn(neg, [a], [a]),), (a,)), "defined twice")
    bad(Program((a,), (), (a,), ((a, np.ones(3, np.float32)),)), "defined twice (again as input 0)")


def test_wrong_output_type():
    a, b = Var(F3), Var(F4)
    bad(Program((a,), (eqn(neg, [a], [b]),), (b,)),
        "output 0 of neg, b:f32[4], is declared f32[4] but its shape rule gives f32[3]")
    weak = Var(F3.update(weak_type=True))
    bad(Program((a,), (eqn(neg, [a], [weak]),), (weak,)), "declared f32[3] (weak) but its shape rule gives f32[3]")
    c, d = Var(F3), Var(F3)
    bad(Program((a,), (eqn(neg, [a], [c, d]),), (c,)), "neg has 2 outputs but its shape rule gives 1")


def test_ill_typed_operands():
    a, b, c = Var(F3), Var(F4), Var(F3)
    bad(Program((a, b), (eqn(add, [a, b], [c]),), (c,)), "add has ill-typed operands")


def test_bad_program_outputs():
    a, b = Var(F3), Var(F3)
    bad(Program((a,), (), (b,)), "output 0 of the program, b:f32[3], is not defined")
    bad(Program((a,), (), (a, 2.0)), "output 1 of the program is a float (2.0), not a Var or Literal")
    bad(Program((a,), (), (Literal(np.ones(3, np.float32), F3),)), "non-scalar Literal")
    bad(Program((a,), (), (Literal(np.int32(1), F3.update(shape=())),)), "holding a int32 value")


def test_bad_operands_and_constants():
    a, b, k = Var(F3), Var(F3), Var(F3)
    bad(Program((a,), (eqn(add, [a, 1.0], [b]),), (b,)), "operand 1 of add is a float (1.0)")
    bad(Program((a,), (), (a,), ((k, np.ones(4, np.float32)),)),
        "constant a:f32[3] is bound to a value of type float32[4]")
    bad(Program((a,), (Eqn("add", (a, a), {}, (b,)),), (b,)), "primitive is 'add', not a Primitive")


def test_nested_programs_are_checked():
    apply_p = primitive("test_verify_apply")
    shape_rules[apply_p] = lambda x, body: [v.aval for v in body.outputs]
    outer, inner_in, inner_out, stray, y = Var(F3), Var(F3), Var(F3), Var(F3), Var(F3)
    body = Program((inner_in,), (eqn(add, [inner_in, outer], [inner_out]),), (inner_out,))
    program = Program((outer,), (eqn(apply_p, [outer], [y], body=body),), (y,))
    # The body uses a value of the enclosing program: captures must be explicit inputs.
    bad(program, "add uses", "before it is defined")
    good_body = Program((inner_in,), (eqn(neg, [inner_in], [stray]),), (stray,))
    verify(Program((outer,), (eqn(apply_p, [outer], [y], body=good_body),), (y,)))


def test_missing_shape_rule():
    p = primitive("test_verify_no_rules")
    a, b = Var(F3), Var(F3)
    bad(Program((a,), (eqn(p, [a], [b]),), (b,)), "primitive 'test_verify_no_rules' has no shape rule")


def test_run_passes_verifies_after_each_pass(monkeypatch):
    class Breaker:
        name = "breaker"

        @staticmethod
        def run(program):  # drops the equations but keeps the outputs: outputs become undefined
            return Program(program.inputs, (), program.outputs, program.consts)

    monkeypatch.setitem(PASSES, "breaker", Breaker)
    a, b = Var(F3), Var(F3)
    program = Program((a,), (eqn(neg, [a], [b]),), (b,))
    with pytest.raises(VerificationError, match="invalid IR after breaker: output 0 of the program"):
        run_passes(program, ["dce", "breaker", "dce"])
    run_passes(program, ["breaker"], check=False)  # checking can be turned off
    with pytest.raises(ValueError, match="unknown pass 'nope'; known passes: .*dce"):
        run_passes(program, ["nope"])


def test_dce_removes_dead_equations_and_constants():
    a, b, c, d, e, k1, k2 = (Var(F3) for _ in range(7))
    eqns = (eqn(add, [a, k1], [b]),       # live: feeds d
            eqn(mul, [a, k2], [c]),       # dead: c is unused, so k2 is too
            eqn(neg, [b], [d]),           # live: an output
            eqn(neg, [c], [e]))           # dead
    program = Program((a,), eqns, (d, lit(3.0), a),
                      ((k1, np.ones(3, np.float32)), (k2, np.zeros(3, np.float32))))
    out = dce.run(program)
    assert out.eqns == (eqns[0], eqns[2]) and [v for v, _ in out.consts] == [k1]
    assert out.inputs == program.inputs and out.outputs == program.outputs
    verify(out, after="dce")
    # An equation with several outputs is live if any one of them is used.
    i, s1, s2 = Var(F3), Var(F3), Var(F3)
    kept = eqn(registry["sort"], [a, i], [s1, s2], dimension=0, is_stable=True, num_keys=1)
    assert dce.run(Program((a, i), (kept,), (s2,))).eqns == (kept,)
    assert dce.run(Program((a,), eqns, (a,))).eqns == ()


@pytest.mark.parametrize("batched", [False, True])
def test_simplify_swaps_a_transposed_contraction(batched):
    """vmap(dot(matrix, x)) stages transpose(dot_general(matrix, xs)); simplify makes it one
    dot_general with the operands swapped, and the numbers stay those of the transpose."""
    rng = np.random.default_rng(0)
    mat = rng.standard_normal((2, 5, 3) if batched else (5, 3)).astype(np.float32)
    xs = rng.standard_normal((2, 4, 3) if batched else (4, 3)).astype(np.float32)
    dims = (((2,), (2,)), ((0,), (0,))) if batched else (((1,), (1,)), ((), ()))
    perm = (0, 2, 1) if batched else (1, 0)

    def f(m, x):
        return kiln.lax.transpose(kiln.lax.dot_general(m, x, dims), perm)

    prims = [e.prim.name for e in kiln.make_ir(f)(mat, xs).eqns]
    assert prims == ["dot_general"]
    want = np.einsum("bkc,bnc->bnk" if batched else "kc,nc->nk", mat, xs)
    np.testing.assert_allclose(np.asarray(kiln.jit(f)(mat, xs)), want, rtol=1e-5, atol=1e-5)

    def used_twice(m, x):
        d = kiln.lax.dot_general(m, x, dims)
        return kiln.lax.transpose(d, perm), d  # the contraction is needed as it is: kept

    assert [e.prim.name for e in kiln.make_ir(used_twice)(mat, xs).eqns] == ["dot_general", "transpose"]
