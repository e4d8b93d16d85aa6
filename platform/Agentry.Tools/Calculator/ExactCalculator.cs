using System.Globalization;
using System.Numerics;

namespace Agentry.Tools;

/// <summary>
/// Evaluates arithmetic expressions exactly, with rational arithmetic on <see cref="BigInteger"/>.
/// The expression is parsed by a small recursive-descent parser; nothing is ever compiled or executed.
/// </summary>
/// <remarks>
/// <para>Grammar, loosest binding first:</para>
/// <code>
/// sum     := product (('+' | '-') product)*
/// product := unary (('*' | '×' | '/' | '÷' | '%') unary)*
/// unary   := ('+' | '-') unary | power
/// power   := primary (('^' | '**') unary)?          (right-associative)
/// primary := number | '(' sum ')'
/// number  := digits ['.' digits] [('e' | 'E') ['+' | '-'] digits]   (or '.' digits ...)
/// </code>
/// <para>
/// Unary minus binds looser than a power, as in mathematics: <c>-2^2</c> is -4 and <c>2^-2</c> is 1/4.
/// Exponents must be integers; a negative exponent gives the reciprocal; <c>0^0</c> is 1 by convention.
/// </para>
/// <para>
/// <c>%</c> is the floored modulo, defined on all rationals: <c>a % b = a - b * floor(a / b)</c>, so the
/// result has the sign of the divisor (<c>7 % 3 = 1</c>, <c>-7 % 3 = 2</c>, <c>7 % -3 = -2</c>, <c>5.5 % 2 = 1.5</c>).
/// </para>
/// <para>
/// The minus sign U+2212 is accepted as '-'. Commas are rejected: there are no thousands separators
/// and no decimal commas. Positions in error messages are 1-based character positions.
/// </para>
/// </remarks>
public static class ExactCalculator
{
    /// <summary>The longest expression accepted, in characters.</summary>
    public const int MaxExpressionLength = 1_000;

    /// <summary>The deepest nesting of parentheses, signs and exponents accepted.</summary>
    public const int MaxNestingDepth = 100;

    /// <summary>The most decimal digits a numerator or denominator may have, in the result or on the way to it.</summary>
    public const int MaxResultDigits = 10_000;

    // 2^33220 is about 10^10000.3, so this bit length matches MaxResultDigits.
    private const long MaxResultBits = 33_220;

    // Expressions longer than this are quoted in error messages only around the error.
    private const int MaxQuotedLength = 80;

    /// <summary>Parses and evaluates <paramref name="expression"/> exactly.</summary>
    /// <exception cref="CalculatorException">The expression is empty, too long, malformed, or cannot be evaluated.</exception>
    public static Fraction Evaluate(string expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            throw new CalculatorException("The expression is empty.");
        }

        if (expression.Length > MaxExpressionLength)
        {
            throw new CalculatorException(FormattableString.Invariant(
                $"The expression is too long: it has {expression.Length:N0} characters, and the limit is {MaxExpressionLength:N0}."));
        }

        var tokens = new Tokenizer(expression).Tokenize();
        return new Parser(expression, tokens).ParseAll();
    }

    private enum TokenKind
    {
        Number,
        Plus,
        Minus,
        Multiply,
        Divide,
        Modulo,
        Power,
        OpenParenthesis,
        CloseParenthesis,
        End,
    }

    /// <param name="Position">1-based position of the first character.</param>
    /// <param name="Length">Length in characters (0 for the end token).</param>
    private readonly record struct Token(TokenKind Kind, int Position, int Length, Fraction Value);

    private static CalculatorException Error(string text, int position, string what, string? detail = null)
    {
        var where = FormattableString.Invariant($"at position {position}");
        var quote = Quote(text, position);
        var message = detail is null ? $"{what} {where} {quote}." : $"{what} {where} {quote}: {detail}.";
        return new CalculatorException(message, position);
    }

    private static string Quote(string text, int position)
    {
        if (text.Length <= MaxQuotedLength)
        {
            return $"in '{text}'";
        }

        const int context = 20;
        var start = Math.Max(0, position - 1 - context);
        var end = Math.Min(text.Length, position + context);
        var prefix = start > 0 ? "…" : string.Empty;
        var suffix = end < text.Length ? "…" : string.Empty;
        return $"near '{prefix}{text[start..end]}{suffix}'";
    }

    private static BigInteger Pow10(long exponent) => BigInteger.Pow(10, checked((int)exponent));

    private sealed class Tokenizer(string text)
    {
        private readonly List<Token> _tokens = [];
        private int _index;

        public List<Token> Tokenize()
        {
            while (_index < text.Length)
            {
                var c = text[_index];
                if (char.IsWhiteSpace(c))
                {
                    _index++;
                    continue;
                }

                switch (c)
                {
                    case '+':
                        Add(TokenKind.Plus, 1);
                        break;
                    case '-':
                    case '\u2212':
                        Add(TokenKind.Minus, 1);
                        break;
                    case '*' when _index + 1 < text.Length && text[_index + 1] == '*':
                        Add(TokenKind.Power, 2);
                        break;
                    case '*':
                    case '×':
                        Add(TokenKind.Multiply, 1);
                        break;
                    case '/':
                    case '÷':
                        Add(TokenKind.Divide, 1);
                        break;
                    case '%':
                        Add(TokenKind.Modulo, 1);
                        break;
                    case '^':
                        Add(TokenKind.Power, 1);
                        break;
                    case '(':
                        Add(TokenKind.OpenParenthesis, 1);
                        break;
                    case ')':
                        Add(TokenKind.CloseParenthesis, 1);
                        break;
                    default:
                        if (char.IsAsciiDigit(c) || (c == '.' && _index + 1 < text.Length && char.IsAsciiDigit(text[_index + 1])))
                        {
                            ReadNumber();
                            break;
                        }

                        if (c == ',')
                        {
                            throw Error(text, _index + 1, "Unexpected character ','",
                                "thousands separators and decimal commas are not supported (write 1000000 or 2.5)");
                        }

                        throw Error(text, _index + 1, $"Unexpected character {DescribeCharacter(_index)}");
                }
            }

            _tokens.Add(new Token(TokenKind.End, text.Length + 1, 0, default));
            return _tokens;
        }

        private void Add(TokenKind kind, int length)
        {
            _tokens.Add(new Token(kind, _index + 1, length, default));
            _index += length;
        }

        private string DescribeCharacter(int index)
        {
            var c = text[index];
            if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
            {
                return $"'{text.Substring(index, 2)}'";
            }

            return char.IsControl(c) || char.IsSurrogate(c)
                ? FormattableString.Invariant($"U+{(int)c:X4}")
                : $"'{c}'";
        }

        private void ReadNumber()
        {
            var start = _index;
            var integerDigits = ReadDigits();
            var fractionDigits = string.Empty;

            if (_index < text.Length && text[_index] == '.')
            {
                var dot = _index;
                _index++;
                fractionDigits = ReadDigits();
                if (fractionDigits.Length == 0)
                {
                    throw Error(text, dot + 1, "Missing digit after the decimal point");
                }
            }

            long exponent = 0;
            if (_index < text.Length && (text[_index] == 'e' || text[_index] == 'E'))
            {
                var marker = _index;
                _index++;
                var negative = false;
                if (_index < text.Length && (text[_index] == '+' || text[_index] == '-'))
                {
                    negative = text[_index] == '-';
                    _index++;
                }

                var exponentDigits = ReadDigits();
                if (exponentDigits.Length == 0)
                {
                    throw Error(text, marker + 1, $"Missing digits after the exponent marker '{text[marker]}'");
                }

                // More than nine digits cannot be a valid exponent unless the mantissa is zero; cap it so it fits a long.
                exponentDigits = exponentDigits.TrimStart('0');
                exponent = exponentDigits.Length switch
                {
                    0 => 0,
                    > 9 => MaxResultDigits * 10L,
                    _ => long.Parse(exponentDigits, NumberStyles.None, CultureInfo.InvariantCulture),
                };
                if (negative)
                {
                    exponent = -exponent;
                }
            }

            if (_index < text.Length && text[_index] == '.')
            {
                throw Error(text, _index + 1, "Unexpected '.'", "a number can have only one decimal point");
            }

            var mantissa = BigInteger.Parse(integerDigits + fractionDigits, NumberStyles.None, CultureInfo.InvariantCulture);
            var value = default(Fraction);
            if (!mantissa.IsZero)
            {
                var scale = exponent - fractionDigits.Length;
                var significantDigits = mantissa.ToString(CultureInfo.InvariantCulture).Length;
                if ((scale > 0 && significantDigits + scale > MaxResultDigits) || -scale > MaxResultDigits)
                {
                    throw OutOfRange(start);
                }

                value = scale >= 0 ? new Fraction(mantissa * Pow10(scale), BigInteger.One) : new Fraction(mantissa, Pow10(-scale));
            }

            _tokens.Add(new Token(TokenKind.Number, start + 1, _index - start, value));
        }

        private string ReadDigits()
        {
            var start = _index;
            while (_index < text.Length && char.IsAsciiDigit(text[_index]))
            {
                _index++;
            }

            return text[start.._index];
        }

        private CalculatorException OutOfRange(int start) =>
            Error(text, start + 1, "Number out of range",
                FormattableString.Invariant($"it would have more than {MaxResultDigits:N0} digits"));
    }

    private sealed class Parser(string text, List<Token> tokens)
    {
        private int _index;
        private int _depth;

        private Token Current => tokens[_index];

        public Fraction ParseAll()
        {
            var value = ParseSum();
            var token = Current;
            if (token.Kind == TokenKind.End)
            {
                return value;
            }

            if (token.Kind == TokenKind.CloseParenthesis)
            {
                throw Error(text, token.Position, "Unmatched closing parenthesis");
            }

            throw Error(text, token.Position, $"Unexpected {Describe(token)}", "an operator was expected");
        }

        private Fraction ParseSum()
        {
            var left = ParseProduct();
            while (Current.Kind is TokenKind.Plus or TokenKind.Minus)
            {
                var op = Next();
                var right = ParseProduct();
                left = op.Kind == TokenKind.Plus
                    ? Checked(Add(left, right), op)
                    : Checked(Add(left, Negate(right)), op);
            }

            return left;
        }

        private Fraction ParseProduct()
        {
            var left = ParseUnary();
            while (Current.Kind is TokenKind.Multiply or TokenKind.Divide or TokenKind.Modulo)
            {
                var op = Next();
                var rightPosition = Current.Position;
                var right = ParseUnary();
                switch (op.Kind)
                {
                    case TokenKind.Multiply:
                        left = Checked(Multiply(left, right), op);
                        break;
                    case TokenKind.Divide when right.Numerator.IsZero:
                        throw Error(text, rightPosition, "Division by zero");
                    case TokenKind.Divide:
                        left = Checked(Multiply(left, Reciprocal(right)), op);
                        break;
                    case TokenKind.Modulo when right.Numerator.IsZero:
                        throw Error(text, rightPosition, "Modulo by zero");
                    default:
                        left = Checked(Modulo(left, right), op);
                        break;
                }
            }

            return left;
        }

        private Fraction ParseUnary()
        {
            if (Current.Kind is TokenKind.Plus or TokenKind.Minus)
            {
                var op = Next();
                Enter(op.Position);
                var operand = ParseUnary();
                _depth--;
                return op.Kind == TokenKind.Minus ? Negate(operand) : operand;
            }

            return ParsePower();
        }

        private Fraction ParsePower()
        {
            var baseValue = ParsePrimary();
            if (Current.Kind != TokenKind.Power)
            {
                return baseValue;
            }

            var op = Next();
            var exponentPosition = Current.Position;
            Enter(op.Position);
            var exponent = ParseUnary();
            _depth--;
            return Power(baseValue, exponent, op, exponentPosition);
        }

        private Fraction ParsePrimary()
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.Number:
                    _index++;
                    return token.Value;

                case TokenKind.OpenParenthesis:
                    _index++;
                    Enter(token.Position);
                    var value = ParseSum();
                    _depth--;
                    var close = Current;
                    if (close.Kind == TokenKind.CloseParenthesis)
                    {
                        _index++;
                        return value;
                    }

                    if (close.Kind == TokenKind.End)
                    {
                        throw Error(text, token.Position, "Missing closing parenthesis for the '('");
                    }

                    throw Error(text, close.Position, $"Unexpected {Describe(close)}", "an operator or ')' was expected");

                case TokenKind.End:
                    var previous = tokens[_index - 1];
                    throw Error(text, previous.Position, $"The expression ends unexpectedly after {Describe(previous)}",
                        "a number or '(' was expected");

                default:
                    throw Error(text, token.Position, $"Unexpected {Describe(token)}", "a number or '(' was expected");
            }
        }

        private Token Next() => tokens[_index++];

        private void Enter(int position)
        {
            if (++_depth > MaxNestingDepth)
            {
                throw Error(text, position, "Nesting too deep",
                    FormattableString.Invariant($"the limit is {MaxNestingDepth} levels of parentheses, signs and exponents"));
            }
        }

        private string Describe(Token token)
        {
            var source = text.Substring(token.Position - 1, token.Length);
            return token.Kind == TokenKind.Number ? $"number '{source}'" : $"'{source}'";
        }

        private Fraction Checked(Fraction value, Token op)
        {
            if (value.Numerator.GetBitLength() > MaxResultBits || value.Denominator.GetBitLength() > MaxResultBits)
            {
                throw TooLarge(op);
            }

            return value;
        }

        private CalculatorException TooLarge(Token op) =>
            Error(text, op.Position, "Result too large",
                FormattableString.Invariant($"it would have more than {MaxResultDigits:N0} digits"));

        private Fraction Power(Fraction baseValue, Fraction exponent, Token op, int exponentPosition)
        {
            if (!exponent.IsInteger)
            {
                throw Error(text, exponentPosition, "Non-integer exponent",
                    $"the exponent is {exponent}, but only integer exponents are supported");
            }

            var n = exponent.Numerator;
            if (n.IsZero)
            {
                return new Fraction(BigInteger.One, BigInteger.One);
            }

            if (baseValue.Numerator.IsZero)
            {
                if (n.Sign < 0)
                {
                    throw Error(text, op.Position, "Division by zero", "zero cannot be raised to a negative power");
                }

                return baseValue;
            }

            if (baseValue.Denominator.IsOne && BigInteger.Abs(baseValue.Numerator).IsOne)
            {
                return n.IsEven ? new Fraction(BigInteger.One, BigInteger.One) : baseValue;
            }

            var magnitude = BigInteger.Abs(n);
            var digitsPerUnit = Math.Max(BigInteger.Log10(BigInteger.Abs(baseValue.Numerator)), BigInteger.Log10(baseValue.Denominator));
            if ((double)magnitude * digitsPerUnit > MaxResultDigits)
            {
                throw TooLarge(op);
            }

            var k = (int)magnitude;
            var numerator = BigInteger.Pow(baseValue.Numerator, k);
            var denominator = BigInteger.Pow(baseValue.Denominator, k);
            return Checked(n.Sign > 0 ? new Fraction(numerator, denominator) : new Fraction(denominator, numerator), op);
        }

        private static Fraction Add(Fraction a, Fraction b) =>
            new(a.Numerator * b.Denominator + b.Numerator * a.Denominator, a.Denominator * b.Denominator);

        private static Fraction Negate(Fraction a) => new(-a.Numerator, a.Denominator);

        private static Fraction Multiply(Fraction a, Fraction b) =>
            new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);

        private static Fraction Reciprocal(Fraction a) => new(a.Denominator, a.Numerator);

        // Floored modulo: a - b * floor(a / b).
        private static Fraction Modulo(Fraction a, Fraction b)
        {
            var quotientNumerator = a.Numerator * b.Denominator;
            var quotientDenominator = a.Denominator * b.Numerator;
            var floor = BigInteger.DivRem(quotientNumerator, quotientDenominator, out var remainder);
            if (!remainder.IsZero && (remainder.Sign < 0) != (quotientDenominator.Sign < 0))
            {
                floor -= BigInteger.One;
            }

            return new Fraction(
                a.Numerator * b.Denominator - floor * b.Numerator * a.Denominator,
                a.Denominator * b.Denominator);
        }
    }
}

/// <summary>
/// An exact rational number, always normalised: the denominator is positive and coprime with the numerator.
/// <c>default(Fraction)</c> is 0.
/// </summary>
/// <exception cref="DivideByZeroException">The denominator is zero.</exception>
public readonly record struct Fraction(BigInteger Numerator, BigInteger Denominator)
{
    // The denominator is stored minus one, so that default(Fraction) is the valid, normalised 0/1.
    private readonly (BigInteger Numerator, BigInteger DenominatorMinusOne) _value = Normalise(Numerator, Denominator);

    /// <summary>The numerator; carries the sign.</summary>
    public BigInteger Numerator => _value.Numerator;

    /// <summary>The denominator; always positive.</summary>
    public BigInteger Denominator => _value.DenominatorMinusOne + BigInteger.One;

    /// <summary>Whether the value is a whole number.</summary>
    public bool IsInteger => _value.DenominatorMinusOne.IsZero;

    /// <summary>
    /// "425" or "-3" for integers, the exact decimal for terminating fractions ("2.5", "0.125"), and otherwise
    /// the fraction with a decimal rounded to 15 significant digits ("1/3 ≈ 0.333333333333333").
    /// </summary>
    public string ToDisplayString()
    {
        if (IsInteger)
        {
            return Numerator.ToString(CultureInfo.InvariantCulture);
        }

        return TryFormatTerminating(out var exact)
            ? exact
            : FormattableString.Invariant($"{Numerator}/{Denominator} ≈ {FormatApproximately()}");
    }

    /// <summary>"n" for integers, otherwise "n/d".</summary>
    public override string ToString() =>
        IsInteger
            ? Numerator.ToString(CultureInfo.InvariantCulture)
            : FormattableString.Invariant($"{Numerator}/{Denominator}");

    private static (BigInteger, BigInteger) Normalise(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero)
        {
            throw new DivideByZeroException("A fraction cannot have a zero denominator.");
        }

        if (numerator.IsZero)
        {
            return (BigInteger.Zero, BigInteger.Zero);
        }

        var divisor = BigInteger.GreatestCommonDivisor(numerator, denominator);
        if (denominator.Sign < 0)
        {
            divisor = -divisor;
        }

        return (numerator / divisor, denominator / divisor - BigInteger.One);
    }

    private bool TryFormatTerminating(out string text)
    {
        var denominator = Denominator;
        var twos = (long)BigInteger.TrailingZeroCount(denominator);
        var rest = denominator >> checked((int)twos);

        // The decimal terminates exactly when what is left after the factors of two is a power of five.
        var fives = (long)Math.Round(BigInteger.Log(rest) / Math.Log(5));
        if (BigInteger.Pow(5, checked((int)fives)) != rest)
        {
            text = string.Empty;
            return false;
        }

        var places = checked((int)Math.Max(twos, fives));
        var scaled = BigInteger.Abs(Numerator) * BigInteger.Pow(10, places) / denominator;
        var digits = scaled.ToString(CultureInfo.InvariantCulture).PadLeft(places + 1, '0');
        var point = digits.Length - places;
        var sign = Numerator.Sign < 0 ? "-" : string.Empty;
        text = $"{sign}{digits[..point]}.{digits[point..].TrimEnd('0')}";
        return true;
    }

    private string FormatApproximately()
    {
        const int significantDigits = 15;
        var numerator = BigInteger.Abs(Numerator);
        var denominator = Denominator;

        // exponent = floor(log10(numerator / denominator)).
        var exponent = DigitCount(numerator) - DigitCount(denominator);
        var atLeastPowerOfTen = exponent >= 0
            ? numerator >= denominator * BigInteger.Pow(10, exponent)
            : numerator * BigInteger.Pow(10, -exponent) >= denominator;
        if (!atLeastPowerOfTen)
        {
            exponent--;
        }

        var shift = significantDigits - 1 - exponent;
        var scaledNumerator = shift >= 0 ? numerator * BigInteger.Pow(10, shift) : numerator;
        var scaledDenominator = shift >= 0 ? denominator : denominator * BigInteger.Pow(10, -shift);
        var digitsValue = BigInteger.DivRem(scaledNumerator, scaledDenominator, out var remainder);
        if (remainder * 2 >= scaledDenominator)
        {
            digitsValue += BigInteger.One;
        }

        if (digitsValue == BigInteger.Pow(10, significantDigits))
        {
            digitsValue /= 10;
            exponent++;
        }

        var digits = digitsValue.ToString(CultureInfo.InvariantCulture);
        var sign = Numerator.Sign < 0 ? "-" : string.Empty;

        if (exponent is >= -7 and < significantDigits)
        {
            var integerPart = exponent >= 0 ? digits[..(exponent + 1)] : "0";
            var fractionPart = exponent >= 0 ? digits[(exponent + 1)..] : new string('0', -exponent - 1) + digits;
            fractionPart = fractionPart.TrimEnd('0');
            return fractionPart.Length == 0 ? $"{sign}{integerPart}" : $"{sign}{integerPart}.{fractionPart}";
        }

        var mantissaFraction = digits[1..].TrimEnd('0');
        var mantissa = mantissaFraction.Length == 0 ? digits[..1] : $"{digits[..1]}.{mantissaFraction}";
        return FormattableString.Invariant($"{sign}{mantissa}E{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent)}");
    }

    private static int DigitCount(BigInteger value) => value.ToString(CultureInfo.InvariantCulture).Length;
}

/// <summary>An expression could not be parsed or evaluated; the message says what was wrong and where.</summary>
public sealed class CalculatorException : Exception
{
    public CalculatorException()
    {
    }

    public CalculatorException(string message)
        : base(message)
    {
    }

    public CalculatorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CalculatorException(string message, int position)
        : base(message)
    {
        Position = position;
    }

    /// <summary>The 1-based position of the error in the expression, when there is one.</summary>
    public int? Position { get; }
}
