package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/fx"

	"github.com/modshop/modshop/modules/catalog"
	catalogapi "github.com/modshop/modshop/modules/catalog/api"
	inventoryapi "github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/platform/app"
	"github.com/modshop/modshop/platform/config"
	"github.com/modshop/modshop/platform/database"
)

// seedBatch is how many of n products one ImportProducts call (one
// transaction) creates: a tenth of them, so progress shows every 10%, from
// 1,000 up to the most a call takes. Fewer, larger commits rewrite the hot
// index pages fewer times: for 100,000 products, batches of 10,000 write
// 1.6 GiB to disk and batches of 1,000 about 4 GiB.
func seedBatch(n int) int {
	return min(max(n/10, 1000), catalogapi.MaxImportBatch)
}

// seed fills the database with a deterministic demo catalog through the
// catalog's own service, so every product is validated and publishes its
// events like one created over the API. The event bus is not started: the
// events wait in the outbox until `serve` relays them to search and the
// others (the in-process transport would drop messages nobody subscribes to
// yet). Seeding again skips what exists, so it is quick and never duplicates.
func seed(cfg config.Config, n int, withStock bool, stdout, stderr io.Writer) int {
	if !cfg.Runs(catalog.Name) {
		fmt.Fprintln(stderr, "modshop: seed: this process does not run the catalog module (MODSHOP_MODULES)")
		return exitConfig
	}
	cfg.DatabaseURL = bulkLoadURL(cfg.DatabaseURL)
	if u, ok := cfg.ModuleDBURLs[catalog.Name]; ok {
		cfg.ModuleDBURLs[catalog.Name] = bulkLoadURL(u)
	}
	var in struct {
		fx.In
		Migrator *app.Migrator
		DBs      *database.Registry
		Catalog  catalogapi.Catalog
		Admin    catalogapi.Admin
		Stock    inventoryapi.Inventory `optional:"true"` // absent when inventory runs elsewhere
		Receive  inventoryapi.Admin     `optional:"true"`
	}
	a := app.New(cfg, modules, stderr, fx.Populate(&in))
	if err := a.Err(); err != nil {
		fmt.Fprintln(stderr, "modshop:", err)
		return 1
	}
	defer in.DBs.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if _, err := in.Migrator.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "modshop: seed: migrate:", err)
		return 1
	}
	start := time.Now()
	cats, newCats, err := seedCategories(ctx, in.Catalog, in.Admin)
	if err != nil {
		fmt.Fprintln(stderr, "modshop: seed: categories:", err)
		return 1
	}
	stocked := 0
	stock := func(ctx context.Context, batch []catalogapi.NewProduct) error {
		if !withStock || in.Receive == nil {
			return nil
		}
		k, err := seedStock(ctx, in.Stock, in.Receive, batch)
		stocked += k
		return err
	}
	created, err := seedProducts(ctx, in.Admin, stock, cats, n, newProgress(stderr, n, start))
	if err != nil {
		fmt.Fprintln(stderr, "modshop: seed: products:", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d of %d products (%d were there already), stock for %d SKUs and %d new categories in %s\n",
		created, n, n-created, stocked, newCats, time.Since(start).Round(time.Millisecond))
	return 0
}

// bulkLoadURL gives a SQLite database a larger page cache (256 MiB instead
// of 16) and a checkpoint every 256 MiB of WAL instead of every 4 MiB for
// the seed's bulk load. Every commit appends each index page it touched to
// the WAL, and the random-order indexes (slugs, SKUs, titles) are touched
// all over by every batch; a bigger cache and fewer checkpoints keep those
// pages in memory and write them back less often. Other URLs stay as they
// are.
func bulkLoadURL(u string) string {
	if !strings.HasPrefix(u, "sqlite://") {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "_pragma=cache_size(-262144)&_pragma=wal_autocheckpoint(65536)"
}

// seedCategories creates the demo tree's missing categories, parents first,
// and returns every leaf with its id.
func seedCategories(ctx context.Context, c catalogapi.Catalog, adm catalogapi.Admin) ([]leaf, int, error) {
	existing, err := c.Categories(ctx)
	if err != nil {
		return nil, 0, err
	}
	ids := make(map[string]string, len(existing))
	for _, cat := range existing {
		ids[cat.Slug] = cat.ID
	}
	created := 0
	ensure := func(slug, name, parentSlug string) (string, error) {
		if id, ok := ids[slug]; ok {
			return id, nil
		}
		in := catalogapi.NewCategory{Slug: slug, Name: name}
		if parentSlug != "" {
			pid := ids[parentSlug]
			in.ParentID = &pid
		}
		cat, err := adm.CreateCategory(ctx, in)
		if err != nil {
			return "", fmt.Errorf("create %s: %w", slug, err)
		}
		ids[slug] = cat.ID
		created++
		return cat.ID, nil
	}
	var leaves []leaf
	for _, root := range demoTree {
		if _, err := ensure(root.slug, root.name, ""); err != nil {
			return nil, created, err
		}
		for _, mid := range root.children {
			if _, err := ensure(mid.slug, mid.name, root.slug); err != nil {
				return nil, created, err
			}
			for _, l := range mid.leaves {
				id, err := ensure(l.slug, l.name, mid.slug)
				if err != nil {
					return nil, created, err
				}
				l.id, l.root = id, root
				leaves = append(leaves, l)
			}
		}
	}
	return leaves, created, nil
}

// seedProducts imports products 0..n-1 in batches; ImportProducts skips the
// slugs that exist, so a second run costs one query per batch. The next
// batch is generated while the database stores the current one.
func seedProducts(ctx context.Context, adm catalogapi.Admin, stock func(context.Context, []catalogapi.NewProduct) error,
	leaves []leaf, n int, progress func(done, created int)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []catalogapi.NewProduct, 1)
	go func() {
		defer close(batches)
		size := seedBatch(n)
		for start := 0; start < n; start += size {
			batch := make([]catalogapi.NewProduct, 0, size)
			for i := start; i < min(start+size, n); i++ {
				batch = append(batch, demoProduct(i, leaves))
			}
			select {
			case batches <- batch:
			case <-ctx.Done():
				return
			}
		}
	}()
	created, done := 0, 0
	for batch := range batches {
		c, err := adm.ImportProducts(ctx, batch)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return created, fmt.Errorf("interrupted after %d products: %w", done, err)
			}
			return created, fmt.Errorf("products %d..%d: %w", done, done+len(batch)-1, err)
		}
		if err := stock(ctx, batch); err != nil {
			return created, fmt.Errorf("stock for products %d..%d: %w", done, done+len(batch)-1, err)
		}
		created += c
		done += len(batch)
		progress(done, created)
	}
	return created, ctx.Err()
}

// newProgress prints a line on stderr after each batch that completes at
// least another 5% of a large seed.
func newProgress(w io.Writer, n int, start time.Time) func(done, created int) {
	const minForProgress = 2000
	next := 5
	return func(done, created int) {
		if n < minForProgress {
			return
		}
		pct := done * 100 / n
		if pct < next {
			return
		}
		for next <= pct {
			next += 5
		}
		fmt.Fprintf(w, "seed: %d/%d products (%d%%), %d new, %s\n", done, n, pct, created, time.Since(start).Round(100*time.Millisecond))
	}
}

// demoSeed fixes the demo catalog: product i is the same on every run and
// for every --products N > i.
const demoSeed = 0x6d6f6473686f70 // "modshop"

// demoProduct is product i of the demo catalog.
func demoProduct(i int, leaves []leaf) catalogapi.NewProduct {
	r := rand.New(rand.NewPCG(demoSeed, uint64(i))) //nolint:gosec // demo data, the same on every run by design
	l := leaves[r.IntN(len(leaves))]
	root := l.root
	brand := pick(r, brands)
	title := fmt.Sprintf("%s %s %s %s", brand, pick(r, adjectives), pick(r, root.materials), pick(r, l.nouns))
	status := catalogapi.StatusPublished
	if r.IntN(25) == 0 {
		status = catalogapi.StatusDraft // about 4% are still being prepared
	}
	catID := l.id
	return catalogapi.NewProduct{
		Slug:        fmt.Sprintf("%s-%d", slugify(title), i+1),
		Title:       title,
		Description: demoDescription(r, title, brand, root),
		CategoryID:  &catID,
		Status:      status,
		Variants:    demoVariants(r, i, l),
	}
}

// demoPrice is spread evenly on a log scale over 1.99..1,999.99, ending in 99.
func demoPrice(r *rand.Rand) int64 {
	lo, hi := math.Log(199), math.Log(199_999)
	p := int64(math.Exp(lo+r.Float64()*(hi-lo)))/100*100 + 99
	return min(max(p, 199), 199_999)
}

// demoVariants are 1..4 distinct combinations of the leaf's attributes;
// later sizes cost a little more.
func demoVariants(r *rand.Rand, i int, l leaf) []catalogapi.NewVariant {
	base := demoPrice(r)
	n := 1 + r.IntN(4)
	var out []catalogapi.NewVariant
	seen := map[string]bool{}
	for tries := 0; len(out) < n && tries < 20; tries++ {
		attrs := map[string]string{}
		var title, code []string
		step := 0
		for _, ax := range l.axes {
			k := r.IntN(len(ax.values))
			v := ax.values[k]
			attrs[ax.key] = v
			title = append(title, v)
			code = append(code, skuCode(v))
			if ax.key == "size" || ax.key == "weight" {
				step = k
			}
		}
		key := strings.Join(code, "-")
		if seen[key] {
			continue
		}
		seen[key] = true
		price := min(base+int64(step)*base/20/100*100, 199_999)
		out = append(out, catalogapi.NewVariant{
			SKU:        fmt.Sprintf("%s-%06d-%s", l.code, i+1, key),
			Title:      strings.Join(title, " / "),
			Price:      price,
			Attributes: attrs,
		})
	}
	return out
}

func demoDescription(r *rand.Rand, title, brand string, root *rootCat) string {
	target := 20 + r.IntN(41)
	words := 0
	var b strings.Builder
	add := func(s string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
		words += len(strings.Fields(s))
	}
	add(fmt.Sprintf("The %s is part of %s's %s range.", title, brand, strings.ToLower(root.name)))
	for _, k := range r.Perm(len(sentences)) {
		if words >= target || words+sentenceWords[k] > 60 {
			continue
		}
		add(sentences[k])
	}
	for words < 20 {
		add("Made to last.")
	}
	return b.String()
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// slugify lowercases s and joins its letters and digits with '-'.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}

// skuCode is an attribute value as it appears in a SKU: "Forest Green" is
// "FORESTGREEN", "4 kg" is "4KG".
func skuCode(v string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(v) {
		if (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// The demo catalog: 4 departments, 12 categories, 24 leaf categories (40 in
// all); products go into leaves.
type rootCat struct {
	slug, name string
	materials  []string
	children   []midCat
}

type midCat struct {
	slug, name string
	leaves     []leaf
}

type leaf struct {
	slug, name, code string
	nouns            []string
	axes             []axis
	id               string   // set once the category exists
	root             *rootCat // set with id
}

type axis struct {
	key    string
	values []string
}

var (
	apparelSizes = axis{"size", []string{"XS", "S", "M", "L", "XL", "XXL"}}
	kidsSizes    = axis{"size", []string{"104", "116", "128", "140", "152"}}
	shoeSizes    = axis{"size", []string{"38", "39", "40", "41", "42", "43", "44", "45", "46"}}
	colours      = axis{"colour", []string{"Black", "White", "Navy", "Charcoal", "Forest Green", "Sand", "Rust", "Sky Blue", "Burgundy", "Olive"}}
	homeColours  = axis{"colour", []string{"Slate", "Cream", "Sage", "Terracotta", "Midnight", "Stone", "Blush"}}
	homeSizes    = axis{"size", []string{"Small", "Medium", "Large"}}
	pans         = axis{"size", []string{"20 cm", "24 cm", "28 cm", "32 cm"}}
	beds         = axis{"size", []string{"Single", "Double", "King", "Super King"}}
	tents        = axis{"capacity", []string{"1 person", "2 person", "3 person", "4 person"}}
	weights      = axis{"weight", []string{"2 kg", "4 kg", "6 kg", "8 kg", "10 kg", "12 kg"}}
	helmetSizes  = axis{"size", []string{"S", "M", "L"}}
)

var demoTree = []*rootCat{
	{slug: "clothing", name: "Clothing",
		materials: []string{"Cotton", "Organic Cotton", "Linen", "Merino", "Wool", "Denim", "Fleece", "Cashmere", "Corduroy"},
		children: []midCat{
			{slug: "mens-clothing", name: "Men", leaves: []leaf{
				{slug: "mens-shirts", name: "Shirts", code: "MSH", nouns: []string{"Shirt", "Oxford Shirt", "Flannel Shirt", "Polo Shirt", "Overshirt"}, axes: []axis{apparelSizes, colours}},
				{slug: "mens-jackets", name: "Jackets", code: "MJK", nouns: []string{"Jacket", "Parka", "Bomber Jacket", "Rain Jacket", "Field Jacket"}, axes: []axis{apparelSizes, colours}},
			}},
			{slug: "womens-clothing", name: "Women", leaves: []leaf{
				{slug: "womens-dresses", name: "Dresses", code: "WDR", nouns: []string{"Dress", "Wrap Dress", "Midi Dress", "Shirt Dress", "Slip Dress"}, axes: []axis{apparelSizes, colours}},
				{slug: "womens-knitwear", name: "Knitwear", code: "WKN", nouns: []string{"Sweater", "Cardigan", "Turtleneck", "Jumper", "Knit Vest"}, axes: []axis{apparelSizes, colours}},
			}},
			{slug: "kids-clothing", name: "Kids", leaves: []leaf{
				{slug: "kids-tees", name: "T-Shirts", code: "KTS", nouns: []string{"T-Shirt", "Long-Sleeve Tee", "Graphic Tee", "Henley"}, axes: []axis{kidsSizes, colours}},
				{slug: "kids-outerwear", name: "Outerwear", code: "KOW", nouns: []string{"Puffer Jacket", "Fleece Jacket", "Raincoat", "Snowsuit"}, axes: []axis{kidsSizes, colours}},
			}},
		}},
	{slug: "footwear", name: "Footwear",
		materials: []string{"Leather", "Suede", "Mesh", "Canvas", "Knit", "Nubuck", "Recycled"},
		children: []midCat{
			{slug: "running-shoes", name: "Running", leaves: []leaf{
				{slug: "road-running-shoes", name: "Road Running Shoes", code: "RRS", nouns: []string{"Running Shoes", "Racing Flats", "Daily Trainers", "Tempo Shoes"}, axes: []axis{shoeSizes, colours}},
				{slug: "trail-running-shoes", name: "Trail Running Shoes", code: "TRS", nouns: []string{"Trail Running Shoes", "Fell Runners", "Trail Trainers"}, axes: []axis{shoeSizes, colours}},
			}},
			{slug: "casual-shoes", name: "Casual", leaves: []leaf{
				{slug: "sneakers", name: "Sneakers", code: "SNK", nouns: []string{"Sneakers", "Low-Top Sneakers", "High-Top Sneakers", "Court Shoes"}, axes: []axis{shoeSizes, colours}},
				{slug: "loafers", name: "Loafers", code: "LOF", nouns: []string{"Loafers", "Penny Loafers", "Driving Shoes", "Boat Shoes"}, axes: []axis{shoeSizes, colours}},
			}},
			{slug: "boots", name: "Boots", leaves: []leaf{
				{slug: "hiking-boots", name: "Hiking Boots", code: "HKB", nouns: []string{"Hiking Boots", "Trekking Boots", "Approach Shoes"}, axes: []axis{shoeSizes, colours}},
				{slug: "winter-boots", name: "Winter Boots", code: "WTB", nouns: []string{"Winter Boots", "Snow Boots", "Chelsea Boots", "Duck Boots"}, axes: []axis{shoeSizes, colours}},
			}},
		}},
	{slug: "home-kitchen", name: "Home & Kitchen",
		materials: []string{"Cast Iron", "Stainless Steel", "Ceramic", "Stoneware", "Enamel", "Bamboo", "Linen", "Cotton", "Porcelain"},
		children: []midCat{
			{slug: "cookware", name: "Cookware", leaves: []leaf{
				{slug: "pans", name: "Pans", code: "PAN", nouns: []string{"Frying Pan", "Sauté Pan", "Wok", "Griddle Pan", "Crêpe Pan"}, axes: []axis{pans}},
				{slug: "pots", name: "Pots", code: "POT", nouns: []string{"Stockpot", "Saucepan", "Dutch Oven", "Casserole"}, axes: []axis{homeSizes, homeColours}},
			}},
			{slug: "tableware", name: "Tableware", leaves: []leaf{
				{slug: "plates", name: "Plates", code: "PLT", nouns: []string{"Dinner Plate Set", "Side Plates", "Serving Platter", "Pasta Bowls"}, axes: []axis{homeColours}},
				{slug: "mugs", name: "Mugs & Cups", code: "MUG", nouns: []string{"Mug", "Travel Mug", "Espresso Cups", "Latte Mug"}, axes: []axis{homeColours}},
			}},
			{slug: "home-textiles", name: "Textiles", leaves: []leaf{
				{slug: "towels", name: "Towels", code: "TWL", nouns: []string{"Bath Towel", "Hand Towel", "Beach Towel", "Bath Sheet"}, axes: []axis{homeSizes, homeColours}},
				{slug: "bedding", name: "Bedding", code: "BED", nouns: []string{"Duvet Cover", "Pillowcase Set", "Fitted Sheet", "Throw"}, axes: []axis{beds, homeColours}},
			}},
		}},
	{slug: "sports-outdoors", name: "Sports & Outdoors",
		materials: []string{"Ripstop", "Nylon", "Down", "Recycled Polyester", "Rubber", "Cork", "Steel", "Carbon"},
		children: []midCat{
			{slug: "camping", name: "Camping", leaves: []leaf{
				{slug: "tents", name: "Tents", code: "TNT", nouns: []string{"Tent", "Backpacking Tent", "Family Tent", "Tarp Shelter"}, axes: []axis{tents}},
				{slug: "sleeping-bags", name: "Sleeping Bags", code: "SLB", nouns: []string{"Sleeping Bag", "Down Sleeping Bag", "Camping Quilt", "Bivvy Bag"}, axes: []axis{homeSizes, colours}},
			}},
			{slug: "cycling", name: "Cycling", leaves: []leaf{
				{slug: "cycling-helmets", name: "Helmets", code: "HLM", nouns: []string{"Helmet", "Road Helmet", "MTB Helmet", "Commuter Helmet"}, axes: []axis{helmetSizes, colours}},
				{slug: "cycling-apparel", name: "Cycling Apparel", code: "CYA", nouns: []string{"Cycling Jersey", "Bib Shorts", "Cycling Jacket", "Gilet"}, axes: []axis{apparelSizes, colours}},
			}},
			{slug: "fitness", name: "Fitness", leaves: []leaf{
				{slug: "yoga", name: "Yoga", code: "YOG", nouns: []string{"Yoga Mat", "Travel Yoga Mat", "Yoga Block", "Yoga Strap"}, axes: []axis{colours}},
				{slug: "weights", name: "Weights", code: "WGT", nouns: []string{"Dumbbell", "Kettlebell", "Adjustable Dumbbell", "Weight Plate"}, axes: []axis{weights}},
			}},
		}},
}

var brands = []string{"Nordvik", "Alder & Co", "Kestrel", "Bramblewood", "Fjellstad", "Hollis", "Marlowe", "Tidewater",
	"Ironbark", "Larkspur", "Orrin", "Sable Point", "Vantage", "Wrenfield", "Cobalt Row", "Ashgrove"}

var adjectives = []string{"Classic", "Essential", "Lightweight", "Heritage", "Everyday", "Premium", "Urban", "Alpine",
	"Coastal", "Nordic", "Vintage", "Modern", "Relaxed", "Tailored", "Rugged", "Minimal", "Signature", "Performance",
	"Soft", "Weatherproof"}

// sentenceWords counts the words of each sentence once.
var sentenceWords = func() []int {
	n := make([]int, len(sentences))
	for i, s := range sentences {
		n[i] = len(strings.Fields(s))
	}
	return n
}()

var sentences = []string{
	"Designed for everyday use and built to last for years.",
	"Every piece is checked by hand before it leaves the workshop.",
	"Thoughtful details make it easy to care for and easy to love.",
	"It pairs well with the rest of the collection.",
	"Responsibly sourced materials keep its footprint small.",
	"A considered design that balances comfort and durability.",
	"Machine washable at thirty degrees; hang to dry for best results.",
	"Reinforced where it matters most, so it keeps its shape.",
	"Tested in real conditions by people who use it every day.",
	"Light enough to take anywhere and tough enough for the trip.",
	"The finish improves with age and gains character over time.",
	"Backed by our two-year guarantee and free repairs.",
	"Simple lines and a timeless colour palette.",
	"Packed in recycled, plastic-free packaging.",
	"A customer favourite since the range first launched.",
}

// seedStock books demo stock through the inventory's own service for the
// batch's SKUs that have no stock level yet (so a second seed adds nothing):
// nine in ten SKUs get 1..60 units, the rest stay out of stock. Quantities
// follow from the SKU, so every seed of the same catalog has the same stock.
func seedStock(ctx context.Context, inv inventoryapi.Inventory, adm inventoryapi.Admin, batch []catalogapi.NewProduct) (int, error) {
	var skus []string
	for _, p := range batch {
		for _, v := range p.Variants {
			skus = append(skus, v.SKU)
		}
	}
	have, err := inv.Availability(ctx, skus)
	if err != nil {
		return 0, err
	}
	var receipts []inventoryapi.Receipt
	for _, sku := range skus {
		if _, ok := have[sku]; ok {
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(sku))
		if x := h.Sum32(); x%10 != 0 {
			receipts = append(receipts, inventoryapi.Receipt{SKU: sku, Quantity: int64(x/10%60) + 1})
		}
	}
	if len(receipts) == 0 {
		return 0, nil
	}
	return adm.Receive(ctx, receipts, "demo stock", "seed")
}
