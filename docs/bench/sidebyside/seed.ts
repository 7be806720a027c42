// The bench's Medusa store, seeded from the catalog the varied harness read
// back from modshop (`varied -export FILE`), so both shops sell the same
// products: the same titles, descriptions, handles (modshop's slugs), SKUs,
// variant attributes (as product options) and prices (EUR).
//
// Besides the products it sets up what a guest purchase through the store
// API needs, the smallest such store: one region (Germany, EUR, Medusa's
// system payment provider), a sales channel and a publishable key for it, a
// stock location linked to that channel with one shipping option (flat,
// manual fulfilment provider), and stock for every variant at that location
// (inventory is managed, as modshop's is, so a purchase reserves stock in
// both shops).
//
// Run by medusa.sh: BENCH_CATALOG=catalog.json BENCH_OUT=out.json
// npx medusa exec ./src/scripts/seed.ts. It writes the ids the harness needs
// to BENCH_OUT.
import { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules, ProductStatus } from "@medusajs/framework/utils"
import {
  createApiKeysWorkflow,
  createInventoryLevelsWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createSalesChannelsWorkflow,
  createShippingOptionsWorkflow,
  createShippingProfilesWorkflow,
  createStockLocationsWorkflow,
  createTaxRegionsWorkflow,
  linkSalesChannelsToApiKeyWorkflow,
  linkSalesChannelsToStockLocationWorkflow,
  updateStoresWorkflow,
} from "@medusajs/medusa/core-flows"
import { readFileSync, writeFileSync } from "fs"

type Product = {
  slug: string
  title: string
  description: string
  variants: { sku: string; title: string; price: number; attributes: Record<string, string> | null }[]
}

export default async function seed({ container }: ExecArgs) {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const link = container.resolve(ContainerRegistrationKeys.LINK)
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const catalog: Product[] = JSON.parse(readFileSync(process.env.BENCH_CATALOG!, "utf8"))
  const stock = parseInt(process.env.BENCH_STOCK || "1000000", 10)
  const batchSize = 200

  const [store] = await container.resolve(Modules.STORE).listStores()
  let [channel] = await container.resolve(Modules.SALES_CHANNEL).listSalesChannels({ name: "Default Sales Channel" })
  if (!channel) {
    const { result } = await createSalesChannelsWorkflow(container).run({
      input: { salesChannelsData: [{ name: "Default Sales Channel" }] },
    })
    channel = result[0]
  }
  await updateStoresWorkflow(container).run({
    input: {
      selector: { id: store.id },
      update: { supported_currencies: [{ currency_code: "eur", is_default: true }], default_sales_channel_id: channel.id },
    },
  })
  const { result: regions } = await createRegionsWorkflow(container).run({
    input: { regions: [{ name: "Germany", currency_code: "eur", countries: ["de"], payment_providers: ["pp_system_default"] }] },
  })
  const region = regions[0]
  await createTaxRegionsWorkflow(container).run({ input: [{ country_code: "de", provider_id: "tp_system" }] })

  const { result: locations } = await createStockLocationsWorkflow(container).run({
    input: { locations: [{ name: "Bench warehouse", address: { address_1: "Main St 1", city: "Berlin", country_code: "DE" } }] },
  })
  const location = locations[0]
  await link.create({
    [Modules.STOCK_LOCATION]: { stock_location_id: location.id },
    [Modules.FULFILLMENT]: { fulfillment_provider_id: "manual_manual" },
  })
  const fulfillment = container.resolve(Modules.FULFILLMENT)
  let [profile] = await fulfillment.listShippingProfiles({ type: "default" })
  if (!profile) {
    const { result } = await createShippingProfilesWorkflow(container).run({
      input: { data: [{ name: "Default Shipping Profile", type: "default" }] },
    })
    profile = result[0] as any
  }
  const set = await fulfillment.createFulfillmentSets({
    name: "Bench delivery",
    type: "shipping",
    service_zones: [{ name: "Germany", geo_zones: [{ type: "country", country_code: "de" }] }],
  })
  await link.create({
    [Modules.STOCK_LOCATION]: { stock_location_id: location.id },
    [Modules.FULFILLMENT]: { fulfillment_set_id: set.id },
  })
  const { result: options } = await createShippingOptionsWorkflow(container).run({
    input: [{
      name: "Standard",
      price_type: "flat",
      provider_id: "manual_manual",
      service_zone_id: set.service_zones[0].id,
      shipping_profile_id: profile.id,
      type: { label: "Standard", description: "Two to three days.", code: "standard" },
      prices: [{ currency_code: "eur", amount: 4.95 }, { region_id: region.id, amount: 4.95 }],
      rules: [
        { attribute: "enabled_in_store", value: "true", operator: "eq" },
        { attribute: "is_return", value: "false", operator: "eq" },
      ],
    }],
  })
  await linkSalesChannelsToStockLocationWorkflow(container).run({ input: { id: location.id, add: [channel.id] } })
  const { result: keys } = await createApiKeysWorkflow(container).run({
    input: { api_keys: [{ title: "Bench", type: "publishable", created_by: "" }] },
  })
  await linkSalesChannelsToApiKeyWorkflow(container).run({ input: { id: keys[0].id, add: [channel.id] } })

  const started = Date.now()
  for (let i = 0; i < catalog.length; i += batchSize) {
    const products = catalog.slice(i, i + batchSize).map((p) => {
      // modshop's variant attributes become Medusa's product options; a
      // product without attributes gets the one option Medusa requires.
      const names = [...new Set(p.variants.flatMap((v) => Object.keys(v.attributes || {})))].sort()
      const options = names.length
        ? names.map((n) => ({ title: n, values: [...new Set(p.variants.map((v) => (v.attributes || {})[n]))] }))
        : [{ title: "Default", values: ["Default"] }]
      return {
        title: p.title,
        handle: p.slug,
        description: p.description,
        status: ProductStatus.PUBLISHED,
        shipping_profile_id: profile.id,
        sales_channels: [{ id: channel.id }],
        options,
        variants: p.variants.map((v) => ({
          title: v.title,
          sku: v.sku,
          manage_inventory: true,
          options: names.length ? Object.fromEntries(names.map((n) => [n, (v.attributes || {})[n]])) : { Default: "Default" },
          prices: [{ currency_code: "eur", amount: v.price / 100 }],
        })),
      }
    })
    await createProductsWorkflow(container).run({ input: { products } })
    const skus = products.flatMap((p) => p.variants.map((v) => v.sku))
    const { data: items } = await query.graph({ entity: "inventory_item", fields: ["id"], filters: { sku: skus } })
    await createInventoryLevelsWorkflow(container).run({
      input: {
        inventory_levels: items.map((it: any) => ({ inventory_item_id: it.id, location_id: location.id, stocked_quantity: stock })),
      },
    })
    logger.info(`seed: ${Math.min(i + batchSize, catalog.length)}/${catalog.length} products, ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }

  writeFileSync(process.env.BENCH_OUT || "bench-seed.json", JSON.stringify({
    publishable_key: (keys[0] as any).token,
    region_id: region.id,
    sales_channel_id: channel.id,
    shipping_option_id: options[0].id,
    products: catalog.length,
  }, null, 2))
}
