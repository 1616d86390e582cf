using AlignCluster.Torch.Native;
using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch;

// Elementwise math. Binary ops broadcast like PyTorch.
public partial class Tensor
{
    private Tensor Unary(UnaryOp op) => Wrap(act_unary(op, this));
    private static Tensor Binary(BinaryOp op, Tensor a, Tensor b) => Wrap(act_binary(op, a, b));
    private static Tensor Binary(BinaryOp op, Tensor a, Scalar b) => Wrap(act_binary_scalar(op, a, b.Value));
    private static Tensor Binary(BinaryOp op, Scalar a, Tensor b) => Wrap(act_scalar_binary(op, a.Value, b));

    /// <summary>−x.</summary>
    public Tensor Neg() => Unary(UnaryOp.Neg);
    /// <summary>eˣ.</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp);
    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => Unary(UnaryOp.Log);
    /// <summary>log(1 + x), accurate for small x.</summary>
    public Tensor Log1p() => Unary(UnaryOp.Log1p);
    /// <summary>eˣ − 1, accurate for small x.</summary>
    public Tensor Expm1() => Unary(UnaryOp.Expm1);
    /// <summary>1 / (1 + e⁻ˣ).</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    /// <summary>log σ(x) = −softplus(−x), computed stably.</summary>
    public Tensor LogSigmoid() => Unary(UnaryOp.LogSigmoid);
    /// <summary>(1/β)·log(1 + e^{βx}); linear above <paramref name="threshold"/> for stability.</summary>
    public Tensor Softplus(double beta = 1, double threshold = 20) => Wrap(act_softplus(this, beta, threshold));
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => Unary(UnaryOp.Relu);
    /// <summary>x·σ(x) (a.k.a. swish).</summary>
    public Tensor Silu() => Unary(UnaryOp.Silu);
    /// <summary>GELU; <paramref name="tanhApproximation"/> selects GPT-2's tanh form ("gelu_new").</summary>
    public Tensor Gelu(bool tanhApproximation = false) => Unary(tanhApproximation ? UnaryOp.GeluTanh : UnaryOp.Gelu);
    /// <summary>|x|.</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs);
    /// <summary>√x.</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);
    /// <summary>x².</summary>
    public Tensor Square() => Unary(UnaryOp.Square);
    /// <summary>sin x.</summary>
    public Tensor Sin() => Unary(UnaryOp.Sin);
    /// <summary>cos x.</summary>
    public Tensor Cos() => Unary(UnaryOp.Cos);
    /// <summary>1/x.</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    /// <summary>−1, 0 or 1.</summary>
    public Tensor Sign() => Unary(UnaryOp.Sign);
    /// <summary>Error function.</summary>
    public Tensor Erf() => Unary(UnaryOp.Erf);
    /// <summary>Round down.</summary>
    public Tensor Floor() => Unary(UnaryOp.Floor);
    /// <summary>Round up.</summary>
    public Tensor Ceil() => Unary(UnaryOp.Ceil);
    /// <summary>Round half to even.</summary>
    public Tensor Round() => Unary(UnaryOp.Round);
    /// <summary>Elementwise NOT (Bool result).</summary>
    public Tensor LogicalNot() => Unary(UnaryOp.LogicalNot);
    /// <summary>True where NaN.</summary>
    public Tensor IsNan() => Unary(UnaryOp.IsNan);
    /// <summary>True where finite (not NaN or ±∞).</summary>
    public Tensor IsFinite() => Unary(UnaryOp.IsFinite);

    /// <summary>this + other.</summary>
    public Tensor Add(Tensor other) => Binary(BinaryOp.Add, this, other);
    /// <summary>this + other.</summary>
    public Tensor Add(Scalar other) => Binary(BinaryOp.Add, this, other);
    /// <summary>this − other.</summary>
    public Tensor Sub(Tensor other) => Binary(BinaryOp.Sub, this, other);
    /// <summary>this − other.</summary>
    public Tensor Sub(Scalar other) => Binary(BinaryOp.Sub, this, other);
    /// <summary>this · other.</summary>
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, this, other);
    /// <summary>this · other.</summary>
    public Tensor Mul(Scalar other) => Binary(BinaryOp.Mul, this, other);
    /// <summary>this / other (true division, also for integers).</summary>
    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, this, other);
    /// <summary>this / other (true division, also for integers).</summary>
    public Tensor Div(Scalar other) => Binary(BinaryOp.Div, this, other);
    /// <summary>this ^ exponent.</summary>
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, this, exponent);
    /// <summary>this ^ exponent.</summary>
    public Tensor Pow(Scalar exponent) => Binary(BinaryOp.Pow, this, exponent);
    /// <summary>Elementwise maximum.</summary>
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Maximum, this, other);
    /// <summary>Elementwise minimum.</summary>
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Minimum, this, other);
    /// <summary>Python-style modulo (sign of the divisor).</summary>
    public Tensor Remainder(Scalar divisor) => Binary(BinaryOp.Remainder, this, divisor);
    /// <summary>Division rounded down.</summary>
    public Tensor FloorDivide(Scalar divisor) => Binary(BinaryOp.FloorDivide, this, divisor);

    /// <summary>this == other, elementwise (Bool).</summary>
    public Tensor Eq(Tensor other) => Binary(BinaryOp.Eq, this, other);
    /// <summary>this == other, elementwise (Bool).</summary>
    public Tensor Eq(Scalar other) => Binary(BinaryOp.Eq, this, other);
    /// <summary>this != other, elementwise (Bool).</summary>
    public Tensor Ne(Tensor other) => Binary(BinaryOp.Ne, this, other);
    /// <summary>this != other, elementwise (Bool).</summary>
    public Tensor Ne(Scalar other) => Binary(BinaryOp.Ne, this, other);
    /// <summary>this &lt; other (Bool).</summary>
    public Tensor Lt(Tensor other) => Binary(BinaryOp.Lt, this, other);
    /// <summary>this &lt; other (Bool).</summary>
    public Tensor Lt(Scalar other) => Binary(BinaryOp.Lt, this, other);
    /// <summary>this ≤ other (Bool).</summary>
    public Tensor Le(Tensor other) => Binary(BinaryOp.Le, this, other);
    /// <summary>this ≤ other (Bool).</summary>
    public Tensor Le(Scalar other) => Binary(BinaryOp.Le, this, other);
    /// <summary>this &gt; other (Bool).</summary>
    public Tensor Gt(Tensor other) => Binary(BinaryOp.Gt, this, other);
    /// <summary>this &gt; other (Bool).</summary>
    public Tensor Gt(Scalar other) => Binary(BinaryOp.Gt, this, other);
    /// <summary>this ≥ other (Bool).</summary>
    public Tensor Ge(Tensor other) => Binary(BinaryOp.Ge, this, other);
    /// <summary>this ≥ other (Bool).</summary>
    public Tensor Ge(Scalar other) => Binary(BinaryOp.Ge, this, other);
    /// <summary>Elementwise AND (Bool).</summary>
    public Tensor LogicalAnd(Tensor other) => Binary(BinaryOp.LogicalAnd, this, other);
    /// <summary>Elementwise OR (Bool).</summary>
    public Tensor LogicalOr(Tensor other) => Binary(BinaryOp.LogicalOr, this, other);

#pragma warning disable CS1591 // operators mirror the methods above
    public static Tensor operator +(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);
    public static Tensor operator +(Tensor a, Scalar b) => Binary(BinaryOp.Add, a, b);
    public static Tensor operator +(Scalar a, Tensor b) => Binary(BinaryOp.Add, b, a);
    public static Tensor operator -(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    public static Tensor operator -(Tensor a, Scalar b) => Binary(BinaryOp.Sub, a, b);
    public static Tensor operator -(Scalar a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);
    public static Tensor operator *(Tensor a, Scalar b) => Binary(BinaryOp.Mul, a, b);
    public static Tensor operator *(Scalar a, Tensor b) => Binary(BinaryOp.Mul, b, a);
    public static Tensor operator /(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);
    public static Tensor operator /(Tensor a, Scalar b) => Binary(BinaryOp.Div, a, b);
    public static Tensor operator /(Scalar a, Tensor b) => Binary(BinaryOp.Div, a, b);
    public static Tensor operator -(Tensor a) => a.Neg();
#pragma warning restore CS1591

    /// <summary>this += other, in place. Returns this.</summary>
    public Tensor Add_(Tensor other) { Check(act_binary_(BinaryOp.Add, this, other)); return this; }
    /// <summary>this += other, in place. Returns this.</summary>
    public Tensor Add_(Scalar other) { Check(act_binary_scalar_(BinaryOp.Add, this, other.Value)); return this; }
    /// <summary>this −= other, in place. Returns this.</summary>
    public Tensor Sub_(Tensor other) { Check(act_binary_(BinaryOp.Sub, this, other)); return this; }
    /// <summary>this ·= other, in place. Returns this.</summary>
    public Tensor Mul_(Tensor other) { Check(act_binary_(BinaryOp.Mul, this, other)); return this; }
    /// <summary>this ·= other, in place. Returns this.</summary>
    public Tensor Mul_(Scalar other) { Check(act_binary_scalar_(BinaryOp.Mul, this, other.Value)); return this; }
    /// <summary>this /= other, in place. Returns this.</summary>
    public Tensor Div_(Scalar other) { Check(act_binary_scalar_(BinaryOp.Div, this, other.Value)); return this; }
    /// <summary>Copies <paramref name="source"/> (broadcast, converted) into this tensor. Returns this.</summary>
    public Tensor Copy_(Tensor source) { Check(act_copy_(this, source)); return this; }
    /// <summary>Sets every element to <paramref name="value"/>. Returns this.</summary>
    public Tensor Fill_(Scalar value) { Check(act_fill_(this, value.Value)); return this; }
    /// <summary>Sets every element to zero. Returns this.</summary>
    public Tensor Zero_() { Check(act_zero_(this)); return this; }
    /// <summary>Fills with normal samples. Returns this.</summary>
    public Tensor Normal_(double mean = 0, double std = 1, Generator? generator = null)
    {
        Check(act_normal_(this, mean, std, Generator.HandleOrZero(generator)));
        GC.KeepAlive(generator);
        return this;
    }
    /// <summary>Fills with uniform samples from [from, to). Returns this.</summary>
    public Tensor Uniform_(double from = 0, double to = 1, Generator? generator = null)
    {
        Check(act_uniform_(this, from, to, Generator.HandleOrZero(generator)));
        GC.KeepAlive(generator);
        return this;
    }

    /// <summary>Limits values to [min, max]; a null bound is open.</summary>
    public Tensor Clamp(Scalar? min = null, Scalar? max = null) =>
        Wrap(act_clamp(this, (min ?? 0).Value, min.HasValue ? 1 : 0, (max ?? 0).Value, max.HasValue ? 1 : 0));

    /// <summary>max(x, min).</summary>
    public Tensor ClampMin(Scalar min) => Clamp(min, null);

    /// <summary>min(x, max).</summary>
    public Tensor ClampMax(Scalar max) => Clamp(null, max);

    /// <summary>A copy with <paramref name="value"/> where <paramref name="mask"/> (Bool, broadcast) is true.</summary>
    public Tensor MaskedFill(Tensor mask, Scalar value) => Wrap(act_masked_fill(this, mask, value.Value));

    /// <summary>Elementwise <paramref name="condition"/> ? <paramref name="whenTrue"/> : <paramref name="whenFalse"/>.</summary>
    public static Tensor Where(Tensor condition, Tensor whenTrue, Tensor whenFalse) => Wrap(act_where(condition, whenTrue, whenFalse));

    /// <summary>Elementwise <paramref name="condition"/> ? <paramref name="whenTrue"/> : <paramref name="whenFalse"/>.</summary>
    public static Tensor Where(Tensor condition, Tensor whenTrue, Scalar whenFalse) => Wrap(act_where_scalar(condition, whenTrue, whenFalse.Value));
}
