namespace Agentry.Tests.Knowledge;

/// A small corpus written for the retrieval-quality test: thirteen short pages on distinct topics,
/// and twenty questions, each with the page and a phrase of the passage that answers it. About half
/// the questions reuse the page's words; the others paraphrase (different words for the same thing),
/// which word overlap alone finds harder.
public static class QualityCorpus
{
    public static readonly IReadOnlyDictionary<string, string> Documents = new Dictionary<string, string>
    {
        ["sourdough.md"] = """
            # Sourdough bread

            A sourdough starter is a mix of flour and water that wild yeast and lactic bacteria live in.
            Feed the starter once a day with equal weights of flour and water, discarding all but a spoonful first.
            It is ready to bake with when it doubles in size within four to six hours of a feeding.

            A dough of 75 percent hydration (750 g of water per kilo of flour) is a good start.
            Let it rise slowly in the fridge overnight for more flavour.
            Bake in a covered cast-iron pot at 250 °C for 20 minutes, then uncovered for another 20 to 25 minutes.
            """,
        ["beekeeping.md"] = """
            # Keeping bees

            Inspect the hive every seven to ten days from spring to late summer, on a warm calm day.
            Look for eggs, which show that the queen is laying, and for queen cells along the bottom of the frames.
            Queen cells in spring usually mean the colony is preparing to swarm: half the bees leave with the old queen.
            Giving the colony more room, an extra box, often prevents swarming.

            Harvest honey only from frames where the bees have capped at least 80 percent of the cells with wax;
            uncapped honey holds too much water and ferments. Leave the colony about 20 kg of honey for the winter.
            """,
        ["bicycle.md"] = """
            # Looking after a bicycle

            Clean and oil the chain every 300 km, or after every ride in the rain. Wipe off the excess oil:
            oil on the outside of the chain only collects grit. A chain stretched by more than 0.5 percent
            wears the cassette and should be replaced.

            Road tyres run at 5.5 to 7 bar, mountain bike tyres at 1.5 to 2 bar; check the pressure every week.
            Replace the brake pads when the grooves in the rubber are worn away, or when the brakes squeal after cleaning.
            """,
        ["houseplants.md"] = """
            # Houseplants

            Most houseplants die from too much water, not too little. Water only when the top two centimetres
            of soil are dry, and empty the saucer after half an hour so the roots do not stand in water.
            Yellow lower leaves and a soft stem are the usual signs of overwatering.

            Succulents and cacti want the brightest window; ferns and peace lilies prefer bright shade.
            Repot in spring, into a pot only one size larger, when roots grow out of the drainage holes.
            """,
        ["tea.md"] = """
            # Brewing tea

            Green tea turns bitter in boiling water: brew it at 70 to 80 °C for two to three minutes.
            Black tea takes water just off the boil and three to five minutes.
            White tea is brewed cooler still, around 75 °C, for four to five minutes.

            Matcha is not steeped at all: the powdered leaf is whisked into water at about 75 °C until it foams.
            Keep tea in an airtight tin away from light and strong smells; green tea stays fresh about six months.
            """,
        ["chess.md"] = """
            # Chess openings

            The opening has three aims: control the centre, develop the knights and bishops, and castle early
            so that the king is safe behind its pawns. Moving the same piece twice in the opening usually wastes time.

            The Italian Game begins 1.e4 e5 2.Nf3 Nc6 3.Bc4, aiming the bishop at the weak f7 square.
            The Sicilian Defence, 1.e4 c5, is Black's most popular answer to 1.e4 and leads to sharp, unbalanced games.
            """,
        ["composting.md"] = """
            # Composting at home

            A compost heap needs greens (kitchen scraps, grass cuttings), which bring nitrogen, and browns
            (dry leaves, cardboard, straw), which bring carbon, in a ratio of about one part greens to three parts browns.
            A heap that smells of ammonia has too many greens; add browns.

            Turn the heap every two weeks to let air in. A working heap heats up to 55 to 65 °C in the middle.
            Never add meat, dairy or cat litter: they attract rats and can carry disease.
            The compost is ready in six to twelve months, when it is dark, crumbly and smells of forest soil.
            """,
        ["stargazing.md"] = """
            # Stargazing for beginners

            Start with binoculars rather than a telescope: 7x50 or 10x50 binoculars show the craters of the Moon,
            the moons of Jupiter and thousands of stars, and they are easy to point.
            Give your eyes twenty minutes in the dark to adapt, and use a red torch to read charts.

            The best nights are moonless, so plan around the new moon. Light pollution from towns hides the faint stars;
            even a short drive to the countryside makes the Milky Way visible on a clear summer night.
            """,
        ["first-aid.md"] = """
            # First aid basics

            Cool a burn under cool running water for twenty minutes, then cover it loosely with cling film.
            Do not put ice, butter or creams on a burn.

            For a nosebleed, sit the person down, lean them forward, and pinch the soft part of the nose for ten minutes.
            Leaning back makes them swallow blood.

            If an adult is unresponsive and not breathing normally, call the emergency number and start chest
            compressions: push hard and fast in the centre of the chest, 100 to 120 times a minute, 5 to 6 cm deep.
            """,
        ["git.md"] = """
            # Git basics

            A commit records a snapshot of the staged changes with a message. Write the message in the imperative,
            for example "Fix the login timeout", and keep the first line under about fifty characters.

            Create a branch for each piece of work with git switch -c NAME, so that the main branch stays releasable.
            To bring a branch up to date, git rebase main replays its commits on top of main; never rebase commits
            that others have already pulled. To undo the last commit but keep its changes, use git reset --soft HEAD~1.
            """,
        ["running.md"] = """
            # Starting to run

            Increase your weekly distance by no more than ten percent from one week to the next: most running
            injuries come from doing too much too soon. Make most runs easy, at a pace where you can still talk.

            Replace running shoes every 600 to 800 km, when the cushioning is worn.
            A quicker step, around 170 to 180 steps a minute, lands the foot under the body and lowers the load on the knees.
            """,
        ["photography.md"] = """
            # Exposure in photography

            Three settings decide how bright a photo is. The aperture (f-number) sets how wide the lens opens:
            f/1.8 lets in much light and blurs the background, f/11 keeps the whole landscape sharp.

            The shutter speed sets how long the sensor sees the scene: 1/1000 s freezes a running dog, while
            1/30 s handheld usually gives a blurry picture. ISO is the sensor's sensitivity: higher ISO works in dim light
            but adds grain (noise).
            """,
        ["wine.md"] = """
            # Storing wine

            Keep wine at a steady 12 to 14 °C; swings in temperature age it faster than a constant warmth.
            Humidity around 70 percent keeps corks from drying out.

            Store bottles with corks lying on their side so the cork stays moist and airtight; screw-cap bottles
            may stand. Keep them in the dark and away from vibration. Most wines are made to be drunk within a few years:
            only a small share improves with long ageing.
            """,
    };

    /// A question, the page that answers it and a phrase of the answering passage.
    public sealed record Question(string Text, string Source, string Phrase);

    public static readonly IReadOnlyList<Question> Questions =
    [
        new("How often should I feed a sourdough starter?", "sourdough.md", "once a day"),
        new("At what oven temperature do I bake sourdough in a cast-iron pot?", "sourdough.md", "250 °C"),
        new("What do queen cells in the hive mean in spring?", "beekeeping.md", "swarm"),
        new("When is honey ready to be taken from the frames?", "beekeeping.md", "capped"),
        new("How frequently should a bike chain be lubricated?", "bicycle.md", "every 300 km"),
        new("What air pressure for road tyres?", "bicycle.md", "5.5 to 7 bar"),
        new("Why are the bottom leaves of my plant turning yellow?", "houseplants.md", "overwatering"),
        new("What water temperature for green tea so it is not bitter?", "tea.md", "70 to 80 °C"),
        new("How is matcha prepared?", "tea.md", "whisked"),
        new("What are the goals of the first moves in a chess game?", "chess.md", "control the centre"),
        new("What is the most common reply for black against 1.e4?", "chess.md", "Sicilian"),
        new("My compost pile smells of ammonia, what should I do?", "composting.md", "add browns"),
        new("Can I put meat scraps on the compost heap?", "composting.md", "Never add meat"),
        new("Should a beginner buy a telescope or binoculars to look at the sky?", "stargazing.md", "binoculars"),
        new("How long should a burn be cooled with water?", "first-aid.md", "twenty minutes"),
        new("How fast should chest compressions be during resuscitation?", "first-aid.md", "100 to 120"),
        new("How do I undo my last commit but keep the changes?", "git.md", "reset --soft"),
        new("How much can I add to my weekly mileage without getting hurt?", "running.md", "ten percent"),
        new("Which shutter speed stops motion of a running dog?", "photography.md", "1/1000"),
        new("Why should wine bottles be stored lying down?", "wine.md", "on their side"),
    ];
}
