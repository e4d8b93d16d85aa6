namespace Agentry.Samples.CodeReview;

/// The sample forge's one repository, acme/pricing: a small Python module with its unittest tests on
/// main, and pull request #1, which adds a bulk discount with two bugs a static analyser sees (an
/// unused import, a misspelt name) and one only the tests see (10 items get no discount).
internal static class SampleProject
{
    public const string Repository = "acme/pricing";
    public const string Base = "main";
    public const string Head = "feature/bulk-discount";
    public const string Author = "dev-alice";
    public const string Title = "Bulk discount for large orders";
    public const string Description = "Orders of 10 items or more get 10% off, as sales asked for in PRICE-112. Adds bulk_discount() and its tests.";

    public static IReadOnlyDictionary<string, string> MainFiles { get; } = new Dictionary<string, string>
    {
        ["README.md"] = """
            # pricing

            Prices of an order, exact to the cent. Run the tests with `python3 -m unittest -v`.

            """,
        ["pricing.py"] = PricingOnMain,
        ["tests/__init__.py"] = "",
        ["tests/test_pricing.py"] = TestsOnMain,
    };

    public static IReadOnlyDictionary<string, string> PullRequestFiles { get; } = new Dictionary<string, string>
    {
        ["pricing.py"] = "import math\n" + PricingOnMain + BulkDiscount,
        ["tests/test_pricing.py"] = TestsOnMain.Replace("from pricing import line_total, order_total", "from pricing import bulk_discount, line_total, order_total", StringComparison.Ordinal) + BulkDiscountTests,
    };

    private const string PricingOnMain = """"
        from decimal import ROUND_HALF_UP, Decimal

        CENT = Decimal("0.01")


        def line_total(unit_price, quantity):
            """The price of one line: unit price times quantity, rounded to the cent."""
            if quantity < 0:
                raise ValueError("quantity must not be negative")
            return (Decimal(unit_price) * quantity).quantize(CENT, ROUND_HALF_UP)


        def order_total(lines):
            """The sum of an order's lines, each a (unit_price, quantity) pair."""
            return sum((line_total(price, quantity) for price, quantity in lines), Decimal("0.00"))

        """";

    private const string BulkDiscount = """"


        BULK_QUANTITY = 10
        BULK_RATE = Decimal("0.10")


        def bulk_discount(total, quantity):
            """10% off an order of BULK_QUANTITY items or more."""
            if quantity > BULK_QUANTITY:
                return (totl * (1 - BULK_RATE)).quantize(CENT, ROUND_HALF_UP)
            return total

        """";

    private const string TestsOnMain = """"
        import unittest
        from decimal import Decimal

        from pricing import line_total, order_total


        class LineTotalTest(unittest.TestCase):
            def test_multiplies_and_rounds_to_the_cent(self):
                self.assertEqual(line_total("19.99", 3), Decimal("59.97"))

            def test_refuses_a_negative_quantity(self):
                with self.assertRaises(ValueError):
                    line_total("1.00", -1)


        class OrderTotalTest(unittest.TestCase):
            def test_sums_the_lines(self):
                self.assertEqual(order_total([("19.99", 3), ("5.00", 2)]), Decimal("69.97"))

        """";

    private const string BulkDiscountTests = """"


        class BulkDiscountTest(unittest.TestCase):
            def test_takes_ten_percent_off_at_ten_items(self):
                self.assertEqual(bulk_discount(Decimal("200.00"), 10), Decimal("180.00"))

            def test_takes_ten_percent_off_over_ten_items(self):
                self.assertEqual(bulk_discount(Decimal("250.00"), 25), Decimal("225.00"))

            def test_leaves_a_small_order_alone(self):
                self.assertEqual(bulk_discount(Decimal("90.00"), 9), Decimal("90.00"))

        """";
}
