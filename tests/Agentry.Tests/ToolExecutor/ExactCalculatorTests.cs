using System.Numerics;
using Agentry.Tools;
using NUnit.Framework;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_the_calculator_evaluates
{
    private static Fraction Of(long numerator, long denominator = 1) => new(numerator, denominator);

    private static CalculatorException ErrorFor(string expression)
    {
        var error = Assert.Throws<CalculatorException>(() => ExactCalculator.Evaluate(expression));
        return error ?? throw new AssertionException($"No CalculatorException for '{expression}'.");
    }

    [TestCase("2 + 3 * 4", 14)]
    [TestCase("2 * 3 + 4", 10)]
    [TestCase("10 - 4 - 3", 3)]
    [TestCase("100 / 10 / 5", 2)]
    [TestCase("2 + 3 * 4 ^ 2", 50)]
    public void Should_follow_operator_precedence(string expression, long expected)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(expected)));
    }

    [Test]
    public void Should_compute_17_times_23_plus_4()
    {
        var result = ExactCalculator.Evaluate("17 * 23 + 4");

        Assert.That(result, Is.EqualTo(Of(395)));
        Assert.That(result.ToDisplayString(), Is.EqualTo("395"));
    }

    [TestCase("(2 + 3) * 4", 20)]
    [TestCase("2 * (3 + 4)", 14)]
    [TestCase("((1 + 2) * (3 + 4)) - (5)", 16)]
    [TestCase("  ( ( 7 ) )  ", 7)]
    public void Should_respect_parentheses(string expression, long expected)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(expected)));
    }

    [Test]
    public void Should_add_decimals_exactly()
    {
        var result = ExactCalculator.Evaluate("0.1 + 0.2");

        Assert.That(result, Is.EqualTo(Of(3, 10)));
        Assert.That(result == ExactCalculator.Evaluate("0.3"), Is.True);
        Assert.That(result.ToDisplayString(), Is.EqualTo("0.3"));
    }

    [TestCase("2.5", 5, 2)]
    [TestCase(".5", 1, 2)]
    [TestCase("1e3", 1000, 1)]
    [TestCase("2.5E-1", 1, 4)]
    [TestCase("1.5e+2", 150, 1)]
    [TestCase("0.000", 0, 1)]
    [TestCase("0e999999999999", 0, 1)]
    [TestCase("007.50", 15, 2)]
    public void Should_read_decimals_and_exponents_exactly(string expression, long numerator, long denominator)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(numerator, denominator)));
    }

    [Test]
    public void Should_give_exactly_one_for_a_third_times_three()
    {
        var result = ExactCalculator.Evaluate("1/3*3");

        Assert.That(result, Is.EqualTo(Of(1)));
        Assert.That(result.IsInteger, Is.True);
    }

    [TestCase("2^10", 1024)]
    [TestCase("2**10", 1024)]
    [TestCase("(-3)^3", -27)]
    [TestCase("(-3)^2", 9)]
    [TestCase("5^0", 1)]
    [TestCase("0^0", 1)]
    [TestCase("(2/3)^2 * 9", 4)]
    public void Should_raise_to_integer_powers(string expression, long expected)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(expected)));
    }

    [TestCase("2^3^2", 512)]
    [TestCase("2**3**2", 512)]
    [TestCase("(2^3)^2", 64)]
    public void Should_make_power_right_associative(string expression, long expected)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(expected)));
    }

    [TestCase("-2^2", -4)]
    [TestCase("-2**2", -4)]
    [TestCase("(-2)^2", 4)]
    [TestCase("3 - -2", 5)]
    [TestCase("-+-3", 3)]
    [TestCase("2 * -3", -6)]
    [TestCase("\u22125 + 1", -4)]
    public void Should_bind_unary_minus_looser_than_power(string expression, long expected)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(expected)));
    }

    [Test]
    public void Should_take_the_reciprocal_for_a_negative_exponent()
    {
        Assert.That(ExactCalculator.Evaluate("2^-3"), Is.EqualTo(Of(1, 8)));
        Assert.That(ExactCalculator.Evaluate("2^-3").ToDisplayString(), Is.EqualTo("0.125"));
        Assert.That(ExactCalculator.Evaluate("(-2/3)^-3"), Is.EqualTo(Of(-27, 8)));
    }

    [Test]
    public void Should_refuse_a_non_integer_exponent()
    {
        var error = ErrorFor("2^0.5");

        Assert.That(error.Message, Is.EqualTo(
            "Non-integer exponent at position 3 in '2^0.5': the exponent is 1/2, but only integer exponents are supported."));
        Assert.That(error.Position, Is.EqualTo(3));
    }

    [Test]
    public void Should_refuse_division_by_zero()
    {
        var error = ErrorFor("1/0");

        Assert.That(error.Message, Does.Contain("Division by zero"));
        Assert.That(error.Message, Is.EqualTo("Division by zero at position 3 in '1/0'."));
    }

    [TestCase("1 / (2 - 2)")]
    [TestCase("0^-1")]
    public void Should_refuse_division_by_a_zero_that_is_computed(string expression)
    {
        var error = ErrorFor(expression);

        Assert.That(error.Message, Does.StartWith("Division by zero"));
    }

    [TestCase("17 % 5", 2, 1)]
    [TestCase("-7 % 3", 2, 1)]
    [TestCase("7 % -3", -2, 1)]
    [TestCase("5.5 % 2", 3, 2)]
    [TestCase("2 + 10 % 4", 4, 1)]
    public void Should_compute_the_floored_modulo(string expression, long numerator, long denominator)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(numerator, denominator)));
    }

    [Test]
    public void Should_refuse_modulo_by_zero()
    {
        var error = ErrorFor("5 % 0");

        Assert.That(error.Message, Is.EqualTo("Modulo by zero at position 5 in '5 % 0'."));
    }

    [TestCase("2 + x", "Unexpected character 'x' at position 5 in '2 + x'.")]
    [TestCase("2 * * 3", "Unexpected '*' at position 5 in '2 * * 3': a number or '(' was expected.")]
    [TestCase("2 3", "Unexpected number '3' at position 3 in '2 3': an operator was expected.")]
    [TestCase("2 +", "The expression ends unexpectedly after '+' at position 3 in '2 +': a number or '(' was expected.")]
    [TestCase("1.2.3", "Unexpected '.' at position 4 in '1.2.3': a number can have only one decimal point.")]
    [TestCase("1.+2", "Missing digit after the decimal point at position 2 in '1.+2'.")]
    [TestCase("2e+", "Missing digits after the exponent marker 'e' at position 2 in '2e+'.")]
    [TestCase("()", "Unexpected ')' at position 2 in '()': a number or '(' was expected.")]
    [TestCase("1,000",
        "Unexpected character ',' at position 2 in '1,000': thousands separators and decimal commas are not supported (write 1000000 or 2.5).")]
    public void Should_report_syntax_errors_with_positions(string expression, string message)
    {
        var error = ErrorFor(expression);

        Assert.That(error.Message, Is.EqualTo(message));
    }

    [TestCase("(1 + 2", "Missing closing parenthesis for the '(' at position 1 in '(1 + 2'.")]
    [TestCase("((1 + 2) * 3", "Missing closing parenthesis for the '(' at position 1 in '((1 + 2) * 3'.")]
    [TestCase("1 + 2)", "Unmatched closing parenthesis at position 6 in '1 + 2)'.")]
    [TestCase("(1 2)", "Unexpected number '2' at position 4 in '(1 2)': an operator or ')' was expected.")]
    public void Should_report_unbalanced_parentheses(string expression, string message)
    {
        var error = ErrorFor(expression);

        Assert.That(error.Message, Is.EqualTo(message));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("\t\n")]
    public void Should_refuse_empty_input(string expression)
    {
        var error = ErrorFor(expression);

        Assert.That(error.Message, Is.EqualTo("The expression is empty."));
    }

    [TestCase("9^99999")]
    [TestCase("10^10^10")]
    [TestCase("2^-100000")]
    [TestCase("(10^5000)^3")]
    [TestCase("10^6000 * 10^6000")]
    [TestCase("1e20000")]
    public void Should_refuse_a_huge_result(string expression)
    {
        var error = ErrorFor(expression);

        Assert.That(error.Message, Does.Contain("more than 10,000 digits"));
    }

    [Test]
    public void Should_allow_large_but_bounded_results()
    {
        var result = ExactCalculator.Evaluate("2^1000 - 2^1000 + 1^99999999999999999999 + (-1)^99999999999999999999");

        Assert.That(result, Is.EqualTo(Of(0)));
        Assert.That(ExactCalculator.Evaluate("2^100"), Is.EqualTo(new Fraction(BigInteger.Pow(2, 100), BigInteger.One)));
    }

    [Test]
    public void Should_refuse_an_expression_that_is_too_long()
    {
        var expression = string.Join("+", Enumerable.Repeat("1", 501));

        var error = ErrorFor(expression);

        Assert.That(error.Message, Is.EqualTo("The expression is too long: it has 1,001 characters, and the limit is 1,000."));
    }

    [Test]
    public void Should_refuse_nesting_that_is_too_deep()
    {
        var expression = new string('(', 150) + "1" + new string(')', 150);

        var error = ErrorFor(expression);

        Assert.That(error.Message, Does.StartWith("Nesting too deep at position 101 near '"));
        Assert.That(ExactCalculator.Evaluate(new string('(', 100) + "1" + new string(')', 100)), Is.EqualTo(Of(1)));
    }

    [TestCase("6 × 7", 42, 1)]
    [TestCase("42 ÷ 4", 21, 2)]
    [TestCase("6 × 7 ÷ 2", 21, 1)]
    public void Should_accept_the_multiplication_and_division_signs(string expression, long numerator, long denominator)
    {
        Assert.That(ExactCalculator.Evaluate(expression), Is.EqualTo(Of(numerator, denominator)));
    }

    [TestCase("425", "425")]
    [TestCase("-3", "-3")]
    [TestCase("5/2", "2.5")]
    [TestCase("1/8", "0.125")]
    [TestCase("-1/8", "-0.125")]
    [TestCase("1/3", "1/3 ≈ 0.333333333333333")]
    [TestCase("-2/3", "-2/3 ≈ -0.666666666666667")]
    [TestCase("100/3", "100/3 ≈ 33.3333333333333")]
    [TestCase("1/7000000", "1/7000000 ≈ 0.000000142857142857143")]
    [TestCase("10^20/3", "100000000000000000000/3 ≈ 3.33333333333333E+19")]
    public void Should_display_integers_terminating_and_repeating_decimals(string expression, string display)
    {
        Assert.That(ExactCalculator.Evaluate(expression).ToDisplayString(), Is.EqualTo(display));
    }

    [Test]
    public void Should_keep_fractions_normalised()
    {
        var fraction = new Fraction(6, -4);

        Assert.That(fraction.Numerator, Is.EqualTo(new BigInteger(-3)));
        Assert.That(fraction.Denominator, Is.EqualTo(new BigInteger(2)));
        Assert.That(fraction, Is.EqualTo(Of(-3, 2)));
        Assert.That(default(Fraction), Is.EqualTo(Of(0)));
        Assert.That(default(Fraction).ToDisplayString(), Is.EqualTo("0"));
    }
}
